import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import type { SqlTarget } from './sql-target.js';

/** Where a run happened, for the JSON results and for comparing runs between commits. */
export interface Environment {
  readonly commit: { readonly hash: string; readonly dirty: boolean } | undefined;
  readonly node: string;
  readonly platform: string;
  readonly cpus: { readonly count: number; readonly model: string };
  readonly memoryGiB: number;
  readonly pgliteVersion: string | undefined;
  /** The server's version and the settings that decide write and read speed. */
  readonly server: { readonly version: string; readonly settings: Record<string, string> } | undefined;
}

const root = fileURLToPath(new URL('../../../', import.meta.url));

/** Settings that bear on the figures (durability, memory, planner). */
export const SERVER_SETTINGS = [
  'synchronous_commit',
  'fsync',
  'wal_sync_method',
  'full_page_writes',
  'commit_delay',
  'wal_level',
  'shared_buffers',
  'work_mem',
  'max_wal_size',
  'max_connections',
  'jit',
] as const;

/** The commit being measured (read-only git calls); undefined outside a git checkout. */
function commit(): Environment['commit'] {
  try {
    const git = (...args: string[]) =>
      execFileSync('git', ['--no-optional-locks', ...args], {
        cwd: root,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      });
    return { hash: git('rev-parse', 'HEAD').trim(), dirty: git('status', '--porcelain').trim().length > 0 };
  } catch {
    return undefined;
  }
}

function pgliteVersion(): string | undefined {
  try {
    const pkg = JSON.parse(readFileSync(`${root}node_modules/@electric-sql/pglite/package.json`, 'utf8'));
    return String(pkg.version);
  } catch {
    return undefined;
  }
}

/** Reads the server's version and settings through a plain SQL session. */
export async function serverInfo(sql: SqlTarget): Promise<NonNullable<Environment['server']>> {
  const { rows } = await sql.main.query<{ name: string; setting: string }>(
    `SELECT name, current_setting(name) AS setting FROM pg_settings WHERE name = ANY($1::text[]) ORDER BY name`,
    [[...SERVER_SETTINGS]],
  );
  const version = await sql.main.query<{ v: string }>(`SELECT current_setting('server_version') AS v`);
  return { version: version.rows[0]!.v, settings: Object.fromEntries(rows.map((r) => [r.name, r.setting])) };
}

/** Describes this machine. */
export function environment(server: Environment['server']): Environment {
  const cpus = os.cpus();
  return {
    commit: commit(),
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpus: { count: os.availableParallelism?.() ?? cpus.length, model: cpus[0]?.model ?? 'unknown' },
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    pgliteVersion: pgliteVersion(),
    server,
  };
}
