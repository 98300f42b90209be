import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from '../support/free-port.js';

const run = promisify(execFile);

/**
 * A PostgreSQL cluster of the test's own (Debian's `pg_createcluster`, on a free port, trust auth for
 * local TCP), which the test may restart and stop hard. Never the shared server on 5432.
 */
export class OwnCluster {
  private constructor(
    readonly version: string,
    readonly name: string,
    readonly port: number,
  ) {}

  /** `postgres://postgres@127.0.0.1:<port>/postgres`. */
  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  /** Creates and starts a cluster named `annals_outage_<pid>` on a free port. */
  static async create(): Promise<OwnCluster> {
    const version = readdirSync('/usr/lib/postgresql')
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(a) - Number(b))
      .at(-1);
    if (version === undefined)
      throw new Error('no PostgreSQL in /usr/lib/postgresql (pg_createcluster needs one)');
    const port = await freePort();
    const cluster = new OwnCluster(version, `annals_outage_${process.pid}`, port);
    await run('pg_createcluster', [
      version,
      cluster.name,
      '-p',
      String(port),
      '--start-conf=manual',
      '-o',
      'max_connections=100',
      '--',
      '--auth=trust',
    ]);
    try {
      await cluster.start();
    } catch (error) {
      await cluster.drop();
      throw error;
    }
    return cluster;
  }

  /** Starts the cluster (pg_ctl waits until it accepts connections). */
  async start(): Promise<void> {
    await this.#ctl('start');
  }

  /** Stops it: `fast` (sessions end with 57P01) or `immediate` (killed, crash recovery at start). */
  async stop(mode: 'fast' | 'immediate'): Promise<void> {
    await this.#ctl('stop', '-m', mode);
  }

  /**
   * Resolves with the moment (epoch ms) a new connection first runs `select 1`: the server accepts
   * connections again. Polls every 10 ms.
   */
  async acceptingSince(): Promise<number> {
    for (;;) {
      const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 1000 });
      client.on('error', () => {});
      try {
        await client.connect();
        await client.query('select 1');
        const at = Date.now();
        await client.end().catch(() => {});
        return at;
      } catch {
        await client.end().catch(() => {});
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
  }

  /** Stops and removes the cluster and its data. Safe to call twice, or when creation failed. */
  async drop(): Promise<void> {
    await run('pg_dropcluster', [this.version, this.name, '--stop']).catch(() => {});
  }

  async #ctl(...args: string[]): Promise<void> {
    await run('pg_ctlcluster', ['--skip-systemctl-redirect', this.version, this.name, ...args]);
  }
}
