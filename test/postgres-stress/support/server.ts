import pg from 'pg';

/** The server these tests run against; they are skipped when it is not set. */
export const databaseUrl = process.env.DATABASE_URL;

/**
 * A plain node-postgres connection outside any store: the tests use it to hold transactions open,
 * take locks, inspect tables and terminate backends, as another application on the server would.
 */
export async function connectRaw(): Promise<pg.Client> {
  if (databaseUrl === undefined) throw new Error('DATABASE_URL is not set');
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'annals-stress-raw' });
  // A terminated or failed raw connection must not crash the test process with an unhandled 'error'.
  client.on('error', () => {});
  await client.connect();
  return client;
}

/** Runs `work` on a fresh raw connection and closes it afterwards. */
export async function withRaw<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = await connectRaw();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/** Drops a test schema and everything in it. */
export function dropSchema(schema: string): Promise<void> {
  return withRaw(async (client) => {
    await client.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
  });
}

/** Quotes a schema-qualified name for raw SQL. */
export function qualified(schema: string, table: string): string {
  return `${pg.escapeIdentifier(schema)}.${pg.escapeIdentifier(table)}`;
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
