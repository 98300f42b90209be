import { type Kysely, sql } from 'kysely';
import { Migrator } from 'kysely/migration';
import {
  MigrationFailed,
  PermissionDenied,
  SchemaNotMigrated,
  TransactionIdsRewound,
} from '../errors/postgres-errors.js';
import { isPermissionDenied, sqlState } from '../store/database-errors.js';
import {
  AnnalsMigrationProvider,
  LATEST_MIGRATION,
  MIGRATION_LOCK_TABLE,
  MIGRATION_TABLE,
} from './migrations.js';
import { withSchemaScopedIntrospection } from './schema-scoped-kysely.js';

/** The result of {@link PostgresEventStore.migrate}. */
export interface MigrationReport {
  /** Migrations applied by this call, in order; empty when the schema was already up to date. */
  readonly applied: readonly string[];
}

/**
 * Creates or upgrades the Annals tables in `schema` through Kysely's `Migrator` (which takes a lock,
 * so several processes may run it at once). Throws `MigrationFailed` naming the failed migration.
 */
export async function migrateSchema(kysely: Kysely<any>, schema: string): Promise<MigrationReport> {
  const migrator = new Migrator({
    db: withSchemaScopedIntrospection(kysely.withoutPlugins(), schema, [
      MIGRATION_TABLE,
      MIGRATION_LOCK_TABLE,
    ]),
    provider: new AnnalsMigrationProvider(schema),
    migrationTableSchema: schema,
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
  });
  const { error, results = [] } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results.find((r) => r.status === 'Error')?.migrationName;
    throw new MigrationFailed(schema, failed, error);
  }
  return { applied: results.filter((r) => r.status === 'Success').map((r) => r.migrationName) };
}

/**
 * Checks that `schema` is migrated and that the cluster's next transaction id is above every stored
 * one (a dump restored into another cluster starts lower, and new events would sort first): throws
 * `SchemaNotMigrated`, `TransactionIdsRewound` or `PermissionDenied`. With `allowUnmigrated`, a schema
 * that is not (fully) migrated, or that the role may not read, passes unchecked. Returns true when the whole check ran. The next xid comes from the
 * snapshot's xmax, so the check consumes no transaction id.
 */
export async function verifySchema(
  db: Kysely<any>,
  schema: string,
  options: { readonly allowUnmigrated: boolean },
): Promise<boolean> {
  let row: { migration: string | null; next_xid: string; stored_xid: string | null } | undefined;
  try {
    row = (
      await sql<{ migration: string | null; next_xid: string; stored_xid: string | null }>`select
        (select name from ${sql.id(schema, MIGRATION_TABLE)} order by name desc limit 1) as migration,
        pg_snapshot_xmax(pg_current_snapshot())::text as next_xid,
        (select transaction_id::text from ${sql.id(schema, 'events')} order by position desc limit 1) as stored_xid`.execute(
        db,
      )
    ).rows[0];
  } catch (error) {
    // A role without privileges on this schema (a tenant role opening its store on the base schema)
    // may open the store; its first use of the schema is refused as PermissionDenied.
    if (isPermissionDenied(error)) {
      if (options.allowUnmigrated) return false;
      throw new PermissionDenied(`a use of schema "${schema}"`, error);
    }
    if (sqlState(error) !== '42P01') throw error;
    if (options.allowUnmigrated) return false;
    throw new SchemaNotMigrated(schema, 'no Annals tables', { cause: error });
  }
  if (row === undefined) throw new Error('the verification query returned no row');
  if (row.migration === null || row.migration < LATEST_MIGRATION) {
    if (options.allowUnmigrated) return false;
    throw new SchemaNotMigrated(
      schema,
      row.migration === null ? 'no applied migration' : `migrations up to ${row.migration}`,
    );
  }
  if (row.stored_xid !== null && BigInt(row.next_xid) <= BigInt(row.stored_xid)) {
    throw new TransactionIdsRewound(schema, BigInt(row.next_xid), BigInt(row.stored_xid));
  }
  return true;
}
