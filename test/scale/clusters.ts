import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

/** The first port of the scale test's clusters (5440, 5441, ...); `SCALE_PORT_BASE` changes it. */
export const SCALE_PORT_BASE = Number(process.env.SCALE_PORT_BASE ?? 5440);

/**
 * A PostgreSQL cluster of the scale test's own (Debian's `pg_createcluster` on a given port, trust
 * auth, fsync off: WAL still reaches the OS at each commit, so an immediate stop loses nothing, only
 * a machine crash would; synchronous_commit stays on, since off would lose acknowledged commits at an
 * immediate stop). Never the shared server on 5432.
 */
export class ScaleCluster {
  private constructor(
    readonly version: string,
    readonly name: string,
    readonly port: number,
  ) {}

  /** `postgres://postgres@127.0.0.1:<port>/postgres`. */
  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  /**
   * Creates and starts `annals_scale_<pid>_<index>` on port `SCALE_PORT_BASE + index`; `fsync`
   * (default off) for the benchmark, where the WAL flush is part of what an append costs.
   */
  static async create(index: number, options: { readonly fsync?: boolean } = {}): Promise<ScaleCluster> {
    const version = readdirSync('/usr/lib/postgresql')
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(a) - Number(b))
      .at(-1);
    if (version === undefined)
      throw new Error('no PostgreSQL in /usr/lib/postgresql (pg_createcluster needs one)');
    const cluster = new ScaleCluster(
      version,
      `annals_scale_${process.pid}_${index}`,
      SCALE_PORT_BASE + index,
    );
    await run('pg_createcluster', [
      version,
      cluster.name,
      '-p',
      String(cluster.port),
      '--start-conf=manual',
      '-o',
      'max_connections=200',
      '-o',
      `fsync=${options.fsync === true ? 'on' : 'off'}`,
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
    await run('pg_ctlcluster', ['--skip-systemctl-redirect', this.version, this.name, 'start']);
  }

  /** Stops it hard (`immediate`: sessions are cut, crash recovery at the next start). */
  async stop(): Promise<void> {
    await run('pg_ctlcluster', [
      '--skip-systemctl-redirect',
      this.version,
      this.name,
      'stop',
      '-m',
      'immediate',
    ]);
  }

  /** Runs one statement on the cluster's `postgres` database. */
  async query<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
    const client = new pg.Client({ connectionString: this.url });
    await client.connect();
    try {
      return (await client.query<R>(text, values)).rows;
    } finally {
      await client.end();
    }
  }

  /** Stops and removes the cluster and its data. Safe to call twice, or when creation failed. */
  async drop(): Promise<void> {
    await run('pg_dropcluster', [this.version, this.name, '--stop']).catch(() => {});
  }
}
