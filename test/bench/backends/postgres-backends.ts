import type { PGliteInstance } from '@annals/postgres';
import { PGlite } from '@electric-sql/pglite';
import { errorText } from '../harness/measure.js';
import { PGliteSqlTarget, ServerSqlTarget, type SqlTarget } from '../harness/sql-target.js';
import { benchStoreOptions } from '../workload/bench-events.js';
import type { StoreBackend } from './store-backend.js';

type PostgresModule = typeof import('@annals/postgres');

/**
 * Loads `@annals/postgres` lazily, so that a broken or missing adapter costs its own figures (reported
 * as not available, with the reason) and not the whole run.
 */
async function loadPostgresStore(): Promise<PostgresModule | { unavailable: string }> {
  try {
    const module = await import('@annals/postgres');
    if (typeof module.PostgresEventStore?.create !== 'function') {
      return { unavailable: '@annals/postgres does not export PostgresEventStore.create' };
    }
    return module;
  } catch (error) {
    return { unavailable: `@annals/postgres cannot be loaded (${errorText(error)})` };
  }
}

/** Connection options the store gets on each backend. */
type Connection = Parameters<PostgresModule['PostgresEventStore']['create']>[0];

function postgresBackend(
  name: 'pglite' | 'server',
  sql: SqlTarget,
  schema: string,
  connection: Connection,
  module: PostgresModule | { unavailable: string },
  closeExtra: () => Promise<void>,
): StoreBackend {
  const dropSchema = () => sql.main.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).then(() => undefined);
  return {
    name,
    schema,
    sql,
    openStore:
      'unavailable' in module
        ? { unavailable: module.unavailable }
        : async ({ personalData, ...variant } = {}) => {
            const store = await module.PostgresEventStore.create(connection, {
              schema,
              ...benchStoreOptions({ personalData }),
              ...variant,
            });
            await store.migrate();
            return store;
          },
    snapshotStore: (store) => {
      if ('unavailable' in module) throw new Error(module.unavailable);
      if (!(store instanceof module.PostgresEventStore)) throw new Error('expected a PostgresEventStore');
      return new module.PostgresSnapshotStore(store);
    },
    projectionRunner:
      'unavailable' in module
        ? { unavailable: module.unavailable }
        : typeof module.PostgresProjectionRunner !== 'function'
          ? { unavailable: '@annals/postgres does not export PostgresProjectionRunner' }
          : ({ store, projections, batchSize }) => {
              if (!(store instanceof module.PostgresEventStore))
                throw new Error('expected a PostgresEventStore');
              // Its defaults: batches in transactions, checkpoint by compare-and-swap, leases on a server.
              return new module.PostgresProjectionRunner({ store, projections, batchSize });
            },
    analyze: async () => {
      // Table by table: a bare ANALYZE would work through every schema of a shared database.
      const { rows } = await sql.main.query<{ tablename: string }>(
        'SELECT tablename FROM pg_tables WHERE schemaname = $1',
        [schema],
      );
      for (const { tablename } of rows) await sql.main.query(`ANALYZE ${schema}."${tablename}"`);
    },
    reset: dropSchema,
    close: async () => {
      await dropSchema().catch(() => {});
      await sql.close();
      await closeExtra();
    },
  };
}

/** Starts an in-memory PGlite (its start-up takes seconds: the quick run starts it early). */
export function startPGlite(): Promise<PGlite> {
  return PGlite.create();
}

/** Embedded PGlite: one in-memory instance for the whole run, shared by the baselines and the store. */
export async function openPGliteBackend(schema: string, started?: Promise<PGlite>): Promise<StoreBackend> {
  const db = await (started ?? startPGlite());
  const module = await loadPostgresStore();
  const connection = { pglite: db as unknown as PGliteInstance };
  return postgresBackend('pglite', new PGliteSqlTarget(db), schema, connection, module, () => db.close());
}

/**
 * The server named by DATABASE_URL. The store's pool gets as many connections as the widest
 * concurrent measurement, like the baseline, so neither side waits for a connection the other has.
 */
export async function openServerBackend(
  url: string,
  wanted: string,
  poolSize: number,
): Promise<StoreBackend> {
  const sql = await ServerSqlTarget.connect(url);
  // Two runs on one server (CI and a developer, say) must not drop each other's schema: each holds a
  // session lock on its schema name, and a run that finds the name taken uses one of its own.
  const lock = (name: string) =>
    sql.main
      .query<{ locked: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS locked', [name])
      .then(({ rows }) => rows[0]!.locked);
  let schema = wanted;
  if (!(await lock(schema))) {
    schema = `${wanted}_${process.pid}`;
    if (!(await lock(schema)))
      throw new Error(`the schemas ${wanted} and ${schema} are both in use by other runs`);
  }
  const module = await loadPostgresStore();
  return postgresBackend(
    'server',
    sql,
    schema,
    { connectionString: url, pool: { max: poolSize } },
    module,
    async () => {},
  );
}
