import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { freePort } from '../../support/free-port.js';

/** The pgbouncer executable: on PATH, or where Debian's package puts it (/usr/sbin). */
export function findPgbouncer(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin'];
  return dirs
    .filter((dir) => dir.startsWith('/'))
    .map((dir) => join(dir, 'pgbouncer'))
    .find((path) => existsSync(path));
}

/** A PgBouncer process this test started, in transaction mode, in front of one server database. */
export interface RunningPgbouncer {
  /** `postgres://user@127.0.0.1:<port>/<database>`: the database through the bouncer. */
  readonly url: string;
  /** The bouncer's admin console (`SHOW STATS`, `SHOW POOLS`). */
  readonly adminUrl: string;
  /** Stops the process (SIGTERM, then waits for it to exit) and removes its folder. */
  stop(): Promise<void>;
}

/**
 * Starts `pgbouncer` on a free port with a configuration written to a temporary folder: `serverUrl`'s
 * database behind it, `pool_mode = transaction`, `auth_type = trust`, at most `poolSize` server
 * connections. Resolves once it listens; rejects with its output when it exits first.
 */
export async function startPgbouncer(
  executable: string,
  serverUrl: string,
  options: { readonly poolSize?: number } = {},
): Promise<RunningPgbouncer> {
  const server = new URL(serverUrl);
  const database = server.pathname.slice(1);
  const user = decodeURIComponent(server.username) || 'postgres';
  const port = await freePort();
  const folder = await mkdtemp(join(tmpdir(), 'annals-pgbouncer-'));
  // pgbouncer refuses to run as root: it then runs as the server's user, who must read the files.
  const asRoot = process.getuid?.() === 0;
  await chmod(folder, 0o755);
  const config = join(folder, 'pgbouncer.ini');
  const users = join(folder, 'userlist.txt');
  await writeFile(users, `"${user}" ""\n`);
  await writeFile(
    config,
    [
      '[databases]',
      `${database} = host=${server.hostname} port=${server.port || '5432'} dbname=${database} user=${user}`,
      '',
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${users}`,
      `admin_users = ${user}`,
      'pool_mode = transaction',
      `default_pool_size = ${options.poolSize ?? 4}`,
      'max_client_conn = 200',
      'ignore_startup_parameters = extra_float_digits,application_name',
      '',
    ].join('\n'),
  );
  await chmod(users, 0o644);
  await chmod(config, 0o644);
  const child = spawn(executable, [...(asRoot ? ['-u', user] : []), config], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await listening(child, exited, port);
  const base = `postgres://${encodeURIComponent(user)}@127.0.0.1:${port}`;
  return {
    url: `${base}/${database}`,
    adminUrl: `${base}/pgbouncer`,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      await rm(folder, { recursive: true, force: true });
    },
  };
}

/** Resolves when the output says the bouncer listens on `port`; rejects when it exits first. */
function listening(child: ChildProcess, exited: Promise<number | null>, port: number): Promise<void> {
  let output = '';
  return new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(`listening on 127.0.0.1:${port}`)) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exited.then((code) =>
      reject(new Error(`pgbouncer exited (code ${code}) before listening:\n${output}`)),
    );
  });
}
