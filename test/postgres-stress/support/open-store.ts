import { PostgresEventStore, type PostgresEventStoreOptions } from '@annals/postgres';
import { databaseUrl } from './server.js';

/** Options of {@link openStore}. */
export interface OpenStoreOptions extends Omit<PostgresEventStoreOptions, 'schema'> {
  /** Most pooled connections of this store. Default 2. */
  readonly poolMax?: number;
  /**
   * `application_name` of every connection the store opens (pooled and LISTEN), so a test can find
   * the store's backends in `pg_stat_activity`. Default `annals-stress`.
   */
  readonly applicationName?: string;
  /** Run `migrate()` after opening. Default true; further instances on a migrated schema may skip it. */
  readonly migrate?: boolean;
}

/**
 * A server store on `schema`, migrated. Each call opens its own pool, as another process would, so
 * several instances on one schema behave like several application nodes.
 */
export async function openStore(schema: string, options: OpenStoreOptions = {}): Promise<PostgresEventStore> {
  if (databaseUrl === undefined) throw new Error('DATABASE_URL is not set');
  const { poolMax = 2, applicationName = 'annals-stress', migrate = true, ...storeOptions } = options;
  const url = new URL(databaseUrl);
  url.searchParams.set('application_name', applicationName);
  const store = await PostgresEventStore.create(
    { connectionString: url.toString(), pool: { max: poolMax } },
    { ...storeOptions, schema },
  );
  if (migrate) await store.migrate();
  return store;
}
