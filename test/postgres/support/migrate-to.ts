import {
  annalsMigrations,
  MIGRATION_LOCK_TABLE,
  MIGRATION_TABLE,
  type PostgresEventStore,
} from '@annals/postgres';
import { type MigrationResultSet, Migrator } from 'kysely/migration';

/**
 * Migrates `store`'s schema up to `migration` and no further, as an earlier release left it: the
 * upgrade tests write rows the way that release did, then run the store's own `migrate()`.
 */
export function migrateStoreTo(store: PostgresEventStore, migration: string): Promise<MigrationResultSet> {
  const migrations = annalsMigrations(store.schema);
  return new Migrator({
    db: store.kysely,
    provider: { getMigrations: async () => migrations },
    migrationTableSchema: store.schema,
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
  }).migrateTo(migration);
}
