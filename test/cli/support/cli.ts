import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const root = fileURLToPath(new URL('../../../', import.meta.url));
/** The command's entry point, run from source through tsx (so the tests need no build). */
const main = join(root, 'packages/cli/src/main.ts');
const tsx = import.meta.resolve('tsx');
/** The config module of the tests (event definitions, an upcaster, two projections). */
export const fixtureConfig = join(root, 'test/cli/fixtures/annals.config.ts');

/** The server the server tests use; they are skipped when it is not set. */
export const databaseUrl = process.env.DATABASE_URL;

/** What a finished run of `annals` printed, and its exit code. */
export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options of a run: the working directory, environment additions, and what to write to stdin. */
export interface CliOptions {
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly input?: string;
}

/** Spawns `annals ...args` as a user would (a separate Node process). */
export function spawnCli(args: readonly string[], options: CliOptions = {}): ChildProcess {
  const env: Record<string, string | undefined> = {
    ...process.env,
    TSX_TSCONFIG_PATH: join(root, 'tsconfig.json'),
  };
  // The command reads DATABASE_URL: a test gives it explicitly when it wants the server.
  delete env.DATABASE_URL;
  Object.assign(env, options.env);
  return spawn(process.execPath, ['--import', tsx, main, ...args], {
    cwd: options.cwd ?? root,
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** Runs `annals ...args` to its end. */
export async function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  const child = spawnCli(args, options);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin!.end(options.input ?? '');
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (exit) => resolve(exit));
  });
  return { code, stdout, stderr };
}

/** A running `annals` process whose output a test waits on. */
export class RunningCli {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;
  readonly #waiters = new Set<() => void>();

  constructor(args: readonly string[], options: CliOptions = {}) {
    this.child = spawnCli(args, options);
    this.child.stdin!.end();
    const changed = () => {
      for (const waiter of this.#waiters) waiter();
    };
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout += chunk;
      changed();
    });
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
      changed();
    });
    this.exited = new Promise((resolve) =>
      this.child.on('close', (code) => {
        changed();
        resolve(code);
      }),
    );
  }

  /** Resolves once `condition` holds on the output; rejects when the process ends first. */
  async waitFor(what: string, condition: (cli: RunningCli) => boolean): Promise<void> {
    let ended = false;
    void this.exited.then(() => (ended = true));
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (condition(this)) {
          this.#waiters.delete(check);
          resolve();
        } else if (ended || this.child.exitCode !== null) {
          this.#waiters.delete(check);
          reject(new Error(`annals ended before ${what}; stdout: ${this.stdout}\nstderr: ${this.stderr}`));
        }
      };
      this.#waiters.add(check);
      check();
    });
  }
}

/** A temporary folder, removed by the returned cleanup. */
export async function tempFolder(prefix: string): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `annals-cli-${prefix}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** A schema name no other test uses, and a function that drops it from the server. */
export function serverSchema(): { name: string; drop: () => Promise<void> } {
  const name = `cli_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  return {
    name,
    drop: async () => {
      if (databaseUrl === undefined) return;
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      try {
        await client.query(`drop schema if exists ${pg.escapeIdentifier(name)} cascade`);
      } finally {
        await client.end();
      }
    },
  };
}

/** The lines of `text` parsed as JSON, one object per line. */
export function jsonLines(text: string): Record<string, any>[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, any>);
}
