import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../support/free-port.js';
import { waitForPort } from './nats-server.js';

/** Debian's rabbitmq-server without the wrapper that switches to the rabbitmq user. */
const RABBITMQ_SERVER = '/usr/lib/rabbitmq/bin/rabbitmq-server';

/** True when a second RabbitMQ node can be started here (Debian's package, run as root). */
export function canStartRabbitMqNode(): boolean {
  return existsSync(RABBITMQ_SERVER) && process.getuid?.() === 0;
}

/**
 * A RabbitMQ node of a test's own, beside the shared one: its own node name, AMQP and distribution
 * ports, data and log folders, configuration (no plugins) and Erlang cookie. The test kills it
 * (SIGKILL to its whole process group, as a crash) and starts it again on the same port and data,
 * where its durable queues and persistent messages are found again.
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
      const outcome = await Promise.race([
        waitForPort(this.port, 120_000).then(() => 'listening' as const),
        exited.then((code) => code),
      ]);
      if (outcome === 'listening') return;
      if (attempt === 5) {
        throw new Error(
          `the RabbitMQ node exited (${String(outcome)}) before listening, five times; its log ends:\n${await this.logTail()}`,
        );
      }
    }
  }

  /** The last lines of the node's log files. */
  async logTail(lines = 40): Promise<string> {
    const folder = join(this.#dir, 'log');
    const names = await readdir(folder).catch(() => [] as string[]);
    const texts = await Promise.all(names.map((n) => readFile(join(folder, n), 'utf8').catch(() => '')));
    return texts.join('\n').split('\n').slice(-lines).join('\n');
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

  /** Kills the node's whole process group at once (SIGKILL), and waits for the port to close. */
  async kill(): Promise<void> {
    const child = this.#process;
    if (child === undefined || child.pid === undefined) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      child.kill('SIGKILL');
    }
    await exited;
    this.#process = undefined;
  }

  /** Kills the node and removes its data. */
  async remove(): Promise<void> {
    await this.kill();
    await rm(this.#dir, { recursive: true, force: true });
  }
}
