import type { PGlite, Transaction } from '@electric-sql/pglite';
import pg from 'pg';

/** One session that runs plain SQL: a pg connection, or PGlite (which has exactly one). */
export interface SqlSession {
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<{ rows: R[] }>;
}

/**
 * Plain SQL on PGlite or on the server, for the physical baselines and for seeding and inspecting
 * without Annals in the way.
 */
export interface SqlTarget {
  readonly backend: 'pglite' | 'server';
  /** A session for sequential work and administration. */
  readonly main: SqlSession;
  /**
   * `n` sessions for concurrent work: `n` connections on the server; on PGlite its single
   * connection `n` times, since an embedded database has no other.
   */
  sessions(n: number): Promise<SqlSession[]>;
  /** Runs `work` between BEGIN and COMMIT on `session` (ROLLBACK when it throws). */
  transaction<T>(session: SqlSession, work: (tx: SqlSession) => Promise<T>): Promise<T>;
  /** Releases what {@link sessions} opened (not the PGlite instance, which its owner closes). */
  releaseSessions(): Promise<void>;
  close(): Promise<void>;
}

/** Plain node-postgres clients on the server. */
export class ServerSqlTarget implements SqlTarget {
  readonly backend = 'server';
  readonly #url: string;
  readonly #main: pg.Client;
  #extra: pg.Client[] = [];

  private constructor(url: string, main: pg.Client) {
    this.#url = url;
    this.#main = main;
  }

  static async connect(url: string): Promise<ServerSqlTarget> {
    return new ServerSqlTarget(url, await connectClient(url));
  }

  get main(): SqlSession {
    return this.#main as unknown as SqlSession;
  }

  async sessions(n: number): Promise<SqlSession[]> {
    while (this.#extra.length < n) this.#extra.push(await connectClient(this.#url));
    return this.#extra.slice(0, n) as unknown as SqlSession[];
  }

  async transaction<T>(session: SqlSession, work: (tx: SqlSession) => Promise<T>): Promise<T> {
    await session.query('BEGIN');
    try {
      const result = await work(session);
      await session.query('COMMIT');
      return result;
    } catch (error) {
      await session.query('ROLLBACK').catch(() => {});
      throw error;
    }
  }

  async releaseSessions(): Promise<void> {
    const clients = this.#extra;
    this.#extra = [];
    await Promise.all(clients.map((c) => c.end().catch(() => {})));
  }

  async close(): Promise<void> {
    await this.releaseSessions();
    await this.#main.end().catch(() => {});
  }
}

/** Plain SQL on a PGlite instance. */
export class PGliteSqlTarget implements SqlTarget {
  readonly backend = 'pglite';
  readonly #db: PGlite;

  constructor(db: PGlite) {
    this.#db = db;
  }

  get main(): SqlSession {
    return this.#db as unknown as SqlSession;
  }

  async sessions(n: number): Promise<SqlSession[]> {
    return Array.from({ length: n }, () => this.main);
  }

  transaction<T>(_session: SqlSession, work: (tx: SqlSession) => Promise<T>): Promise<T> {
    // PGlite's transaction() queues other work behind the open transaction, as a lock would.
    return this.#db.transaction((tx: Transaction) => work(tx as unknown as SqlSession));
  }

  async releaseSessions(): Promise<void> {}

  async close(): Promise<void> {}
}

async function connectClient(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, application_name: 'annals-bench' });
  // A dropped connection must fail the measurement using it, not crash the run.
  client.on('error', () => {});
  await client.connect();
  return client;
}
