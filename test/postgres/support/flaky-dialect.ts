import type { CompiledQuery, DatabaseConnection, Dialect, Driver, QueryResult } from 'kysely';

/** What the next matching statements do before (or after) reaching the database. */
interface Failure {
  /** Run the statement, then report the failure: the client cannot know it committed. */
  readonly afterRunning: boolean;
  /** The SQLSTATE (or Node error code, e.g. ECONNRESET) of the error. Default 57P01 (the backend was ended). */
  readonly code?: string;
  /** Instead of an error, answer with no rows (the statement does not run). */
  readonly noRows?: boolean;
}

/**
 * Wraps a dialect so that chosen statements fail as if the connection had broken (SQLSTATE 57P01,
 * "terminating connection due to administrator command"), either before they reach the database or
 * after they ran: the two outcomes a client cannot tell apart.
 */
export class FlakyDialect implements Dialect {
  readonly #inner: Dialect;
  readonly #matches: RegExp;
  readonly #failures: Failure[] = [];
  #rollbackFailures = 0;

  constructor(inner: Dialect, matches: RegExp) {
    this.#inner = inner;
    this.#matches = matches;
  }

  /**
   * The next `times` ROLLBACKs run, then throw what node-postgres throws on a client whose socket
   * broke ("not queryable"): the error Kysely would let replace the one that caused the rollback.
   */
  failNextRollbacks(times: number): void {
    this.#rollbackFailures += times;
  }

  /** The next `times` matching statements fail. */
  failNext(times: number, failure: Failure): void {
    for (let i = 0; i < times; i++) this.#failures.push(failure);
  }

  createDriver(): Driver {
    const driver = this.#inner.createDriver();
    const wrap = (connection: DatabaseConnection): DatabaseConnection => ({
      executeQuery: async <R>(query: CompiledQuery): Promise<QueryResult<R>> => {
        const failure = this.#matches.test(query.sql) ? this.#failures.shift() : undefined;
        if (failure === undefined) return connection.executeQuery<R>(query);
        if (failure.afterRunning) await connection.executeQuery<R>(query);
        if (failure.noRows === true) return { rows: [] };
        const code = failure.code ?? '57P01';
        const message =
          code === '57P01'
            ? 'terminating connection due to administrator command'
            : code === 'ECONNRESET'
              ? 'read ECONNRESET'
              : `injected error ${code}`;
        throw Object.assign(new Error(message), { code });
      },
      streamQuery: (query, chunkSize) => connection.streamQuery(query, chunkSize),
    });
    const wrapped = new WeakMap<DatabaseConnection, DatabaseConnection>();
    const unwrapped = new WeakMap<DatabaseConnection, DatabaseConnection>();
    const outer = (connection: DatabaseConnection) => {
      let w = wrapped.get(connection);
      if (w === undefined) {
        w = wrap(connection);
        wrapped.set(connection, w);
        unwrapped.set(w, connection);
      }
      return w;
    };
    const inner = (connection: DatabaseConnection) => unwrapped.get(connection) ?? connection;
    return {
      init: () => driver.init(),
      acquireConnection: async () => outer(await driver.acquireConnection()),
      beginTransaction: (c, settings) => driver.beginTransaction(inner(c), settings),
      commitTransaction: (c) => driver.commitTransaction(inner(c)),
      rollbackTransaction: async (c) => {
        await driver.rollbackTransaction(inner(c));
        if (this.#rollbackFailures > 0) {
          this.#rollbackFailures--;
          throw new Error('Client has encountered a connection error and is not queryable');
        }
      },
      releaseConnection: (c) => driver.releaseConnection(inner(c)),
      destroy: () => driver.destroy(),
    };
  }

  createQueryCompiler() {
    return this.#inner.createQueryCompiler();
  }
  createAdapter() {
    return this.#inner.createAdapter();
  }
  createIntrospector(db: Parameters<Dialect['createIntrospector']>[0]) {
    return this.#inner.createIntrospector(db);
  }
}
