import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../support/free-port.js';
import { waitFor } from '../../support/wait-for.js';
import { waitForPort } from './nats-server.js';

/** Debian's rabbitmq-server without the wrapper that switches to the rabbitmq user. */
const RABBITMQ_SERVER = '/usr/lib/rabbitmq/bin/rabbitmq-server';

/**
 * Whether a live process of the process group `group` is left: one whose /proc stat names the group
 * and is not a zombie (an orphan's zombie waits for whatever reaps orphans here).
 */
async function groupAlive(group: number): Promise<boolean> {
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, so split after the last ')'.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === group && state !== 'Z') return true;
  }
  return false;
}

/** True when a second RabbitMQ node can be started here (Debian's package, run as root). */
export function canStartRabbitMqNode(): boolean {
  return existsSync(RABBITMQ_SERVER) && process.getuid?.() === 0;
}

/**
 * A RabbitMQ node of a test's own, beside the shared one: its own node name, AMQP and distribution
 * ports, data and log folders, configuration (no plugins) and Erlang cookie. The test kills it
 * (SIGKILL to its whole process group, as a crash) and starts it again on the same port and data.
 * A durable queue declared shortly before the kill may be missing after the restart (RabbitMQ 3.10).
 */
export class OwnRabbitMqNode {
  readonly port: number;
  readonly #distPort: number;
  readonly #dir: string;
  readonly #name: string;
  #process: ChildProcess | undefined;

  private constructor(port: number, distPort: number, dir: string) {
    this.port = port;
    this.#distPort = distPort;
    this.#dir = dir;
    this.#name = `annals-${port}@localhost`;
  }

  static async start(): Promise<OwnRabbitMqNode> {
    const dir = await mkdtemp(join(tmpdir(), 'annals-rabbitmq-'));
    const node = new OwnRabbitMqNode(await freePort(), await freePort(), dir);
    await writeFile(
      join(dir, 'rabbitmq.conf'),
      `listeners.tcp.local = 127.0.0.1:${node.port}\nloopback_users = none\n`,
    );
    await writeFile(join(dir, 'enabled_plugins'), '[].\n');
    await writeFile(join(dir, 'rabbitmq-env.conf'), '');
    await node.restart();
    return node;
  }

  get url(): string {
    return `amqp://guest:guest@127.0.0.1:${this.port}`;
  }

  /**
   * Starts the node (again) and waits until it accepts AMQP connections. A node that exits before it
   * listens (a start right after a kill can find its name or a port still held) is started again, at
   * most five times; then the error quotes the end of its log.
   */
  async restart(): Promise<void> {
    if (this.#process !== undefined) throw new Error('the RabbitMQ node is running already');
    for (let attempt = 1; ; attempt++) {
      const exited = this.#spawn();
      // The port wait of an attempt whose node exited stops polling.
      const attemptOver = new AbortController();
      const outcome = await Promise.race([
        waitForPort(this.port, 120_000, attemptOver.signal).then(() => 'listening' as const),
        exited.then((code) => code),
      ]).finally(() => attemptOver.abort());
      if (outcome === 'listening') return;
      if (attempt === 5) {
        throw new Error(
          `the RabbitMQ node exited (${String(outcome)}) before listening, five times; its log ends:\n${await this.logTail()}`,
        );
      }
    }
  }

  /** The last lines of the node's log files, the file written last at the end. */
  async logTail(lines = 40): Promise<string> {
    const folder = join(this.#dir, 'log');
    const names = await readdir(folder).catch(() => [] as string[]);
    const files = await Promise.all(
      names.map(async (n) => ({
        text: await readFile(join(folder, n), 'utf8').catch(() => ''),
        written: (await stat(join(folder, n)).catch(() => undefined))?.mtimeMs ?? 0,
      })),
    );
    files.sort((a, b) => a.written - b.written);
    return files
      .map((f) => f.text)
      .join('\n')
      .split('\n')
      .slice(-lines)
      .join('\n');
  }

  /** Spawns the node's process; resolves with its exit code (or signal) when it ends. */
  #spawn(): Promise<number | string | null> {
    const dir = this.#dir;
    const child = spawn(RABBITMQ_SERVER, [], {
      cwd: dir,
      detached: true,
      stdio: 'ignore',
      env: {
        ...process.env,
        HOME: dir,
        RABBITMQ_NODENAME: this.#name,
        RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
        RABBITMQ_NODE_PORT: String(this.port),
        RABBITMQ_DIST_PORT: String(this.#distPort),
        RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
        RABBITMQ_CONF_ENV_FILE: join(dir, 'rabbitmq-env.conf'),
        RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
        RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
        RABBITMQ_LOG_BASE: join(dir, 'log'),
        RABBITMQ_PID_FILE: join(dir, 'node.pid'),
        RABBITMQ_ADVANCED_CONFIG_FILE: join(dir, 'advanced.config'),
      },
    });
    this.#process = child;
    return new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        if (this.#process === child) this.#process = undefined;
        resolve(code ?? signal);
      });
    });
  }

  /**
   * Kills the node's whole process group at once (SIGKILL), and waits until no process of the group
   * is left. The start script exits first; the Erlang VM it started may still be tearing down its
   * memory, with its listening socket open and accepting, for a while after.
   */
  async kill(): Promise<void> {
    const child = this.#process;
    if (child === undefined || child.pid === undefined) return;
    const group = child.pid;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      process.kill(-group, 'SIGKILL');
    } catch {
      child.kill('SIGKILL');
    }
    await exited;
    this.#process = undefined;
    await waitFor(
      async () => !(await groupAlive(group)),
      `every process of the killed RabbitMQ node (group ${group}) to end`,
    );
  }

  /** Kills the node and removes its data. */
  async remove(): Promise<void> {
    await this.kill();
    await rm(this.#dir, { recursive: true, force: true });
  }
}
