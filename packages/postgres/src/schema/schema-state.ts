import { sql } from 'kysely';
import type { PostgresEventStore } from '../store/postgres-event-store.js';
import { annalsMigrations, MIGRATION_TABLE } from './migrations.js';

/** Which of the shipped migrations a store's schema has, and which it lacks. */
export interface SchemaState {
  /** The schema of the Annals tables. */
  readonly schema: string;
  /** Applied migrations, in order. */
  readonly applied: readonly string[];
  /** Shipped migrations not applied yet, in the order `migrate` runs them. */
  readonly pending: readonly string[];
}

/**
 * Reads the migration bookkeeping of the store's schema (none applied when the table is absent):
 * `pending` not empty means `store.migrate()` (or `annals migrate`) has work to do.
 */
export async function readSchemaState(store: PostgresEventStore): Promise<SchemaState> {
  const shipped = Object.keys(annalsMigrations(store.schema)).sort();
  const exists = await sql<{
    found: boolean;
  }>`select to_regclass(${`${quoteIdent(store.schema)}.${MIGRATION_TABLE}`}) is not null as found`.execute(
    store.kysely,
  );
  let applied: string[] = [];
  if (exists.rows[0]?.found === true) {
    const rows = await sql<{
      name: string;
    }>`select name from ${sql.id(store.schema, MIGRATION_TABLE)} order by name`.execute(store.kysely);
    applied = rows.rows.map((r) => r.name);
  }
  const done = new Set(applied);
  return { schema: store.schema, applied, pending: shipped.filter((name) => !done.has(name)) };
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
