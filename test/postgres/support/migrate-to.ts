import {
  annalsMigrations,
  MIGRATION_LOCK_TABLE,
  MIGRATION_TABLE,
  type PostgresEventStore,
} from '@annals/postgres';
import { type DatabaseIntrospector, type Kysely, sql } from 'kysely';
import { type MigrationResultSet, Migrator } from 'kysely/migration';

/**
 * Migrates `store`'s schema up to `migration` and no further, as an earlier release left it: the
 * upgrade tests write rows the way that release did, then run the store's own `migrate()`.
 */
export function migrateStoreTo(store: PostgresEventStore, migration: string): Promise<MigrationResultSet> {
  const migrations = annalsMigrations(store.schema);
  return new Migrator({
    db: scopedIntrospection(store.kysely, store.schema),
    provider: { getMigrations: async () => migrations },
    migrationTableSchema: store.schema,
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
  }).migrateTo(migration);
}

/**
 * `db` whose introspection reads the catalog of `schema` alone, as the store's own `migrate()` does:
 * Kysely's default reads every schema of the database and fails ("schema ... does not exist") when
 * another test file drops one of its schemas meanwhile.
 */
function scopedIntrospection(db: Kysely<any>, schema: string): Kysely<any> {
  const introspection: Pick<DatabaseIntrospector, 'getSchemas' | 'getTables'> = {
    getSchemas: async () =>
      (
        await sql<{
          name: string;
        }>`select nspname::text as name from pg_namespace where nspname = ${schema}`.execute(db)
      ).rows,
    getTables: async () =>
      (
        await sql<{ name: string }>`select c.relname::text as name from pg_class c
          join pg_namespace n on n.oid = c.relnamespace where n.nspname = ${schema} and c.relkind = 'r'`.execute(
          db,
        )
      ).rows.map(({ name }) => ({ name, schema, isView: false, isForeign: false, columns: [] })),
  };
  return new Proxy(db, {
    get: (target, property) => {
      if (property === 'introspection') return introspection;
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
