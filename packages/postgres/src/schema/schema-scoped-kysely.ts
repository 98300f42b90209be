import { type DatabaseIntrospector, type Kysely, sql } from 'kysely';
import type { AnnalsTables } from './tables.js';

/**
 * `db` with an introspector that sees only the tables `tables` of `schema`. Kysely's `Migrator`
 * checks whether its tables exist by introspecting every table of every schema of the database: slow
 * on a busy database, and it fails when another schema is dropped meanwhile ("schema ... does not
 * exist"). Scoped, it reads two small catalog queries that look the names up in the catalog's
 * (name, schema) index, so a catalog full of dead rows (many schemas created and dropped, vacuumed
 * late) does not make them walk it all.
 */
export function withSchemaScopedIntrospection(
  db: Kysely<any>,
  schema: string,
  tables: readonly string[],
): Kysely<any> {
  const introspection: DatabaseIntrospector = {
    async getSchemas() {
      const result = await sql<{ name: string }>`select nspname::text as name from pg_catalog.pg_namespace
        where nspname = ${schema}`.execute(db);
      return result.rows;
    },
    async getTables() {
      const result = await sql<{
        name: string;
        kind: string;
      }>`select c.relname::text as name, c.relkind::text as kind
        from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
        where c.relname in (${sql.join(tables)}) and n.nspname = ${schema}
          and c.relkind in ('r', 'v', 'p', 'f')`.execute(db);
      return result.rows.map((row) => ({
        name: row.name,
        schema,
        isView: row.kind === 'v',
        isForeign: row.kind === 'f',
        columns: [],
      }));
    },
  };
  return new Proxy(db, {
    get(target, property) {
      if (property === 'introspection') return introspection;
      const value = Reflect.get(target, property, target);
      // Kysely keeps its state in #private fields: its methods must run on the real instance.
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/**
 * `db` (or a transaction) without its plugins (a caller's `CamelCasePlugin` must not rename the
 * Annals columns) and with `schema` as the schema of unqualified tables: how every Annals query runs.
 */
export function annalsDb<T = AnnalsTables>(db: Kysely<any>, schema: string): Kysely<T> {
  return db.withoutPlugins().withSchema(schema) as unknown as Kysely<T>;
}
