import { type Kysely, sql } from 'kysely';
import { ResetRefused } from './reset-refused.js';

/** The comment that marks a schema as created by the example; `--reset` drops only schemas with it. */
export const SCHEMA_MARKER = 'Created by the Annals bank-account example; its --reset drops this schema.';

/**
 * Creates each schema of `schemas` that does not exist, with {@link SCHEMA_MARKER} as its comment (in
 * one transaction, so no schema is left unmarked). A schema that exists already is left as it is.
 */
export async function createExampleSchemas(db: Kysely<any>, schemas: readonly string[]): Promise<void> {
  for (const schema of schemas) {
    try {
      await db.transaction().execute(async (tx) => {
        await sql`create schema ${sql.id(schema)}`.execute(tx);
        await sql`comment on schema ${sql.id(schema)} is ${sql.lit(SCHEMA_MARKER)}`.execute(tx);
      });
    } catch (error) {
      if ((error as { code?: unknown }).code !== '42P06') throw error; // 42P06: it exists already
    }
  }
}

/**
 * Drops the schemas of `schemas` that the example created (those with {@link SCHEMA_MARKER}) and
 * returns their names. Throws {@link ResetRefused}, dropping nothing, when one of them exists without
 * the marker.
 */
export async function dropExampleSchemas(db: Kysely<any>, schemas: readonly string[]): Promise<string[]> {
  const rows = (
    await sql<{ name: string; comment: string | null }>`select nspname as name,
        obj_description(oid, 'pg_namespace') as comment
      from pg_namespace where nspname = any(${[...schemas]}::text[]) order by nspname`.execute(db)
  ).rows;
  const unmarked = rows.filter((row) => row.comment !== SCHEMA_MARKER).map((row) => row.name);
  if (unmarked.length > 0) {
    throw new ResetRefused(
      `--reset refused: schema ${unmarked.join(', ')} was not created by the example (its comment is not the example's marker), and nothing was dropped. ` +
        'Use a database where the example created its schemas, or drop them yourself if they are no longer needed.',
    );
  }
  for (const { name } of rows) await sql`drop schema ${sql.id(name)} cascade`.execute(db);
  return rows.map((row) => row.name);
}
