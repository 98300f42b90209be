import type { EventStore } from '@annals/core';
import { PostgresEventStore } from '@annals/postgres';
import pg from 'pg';
import { afterAll } from 'vitest';

/** The server of the server conformance files; they are skipped when it is not set. */
export const databaseUrl = process.env.DATABASE_URL;

/**
 * Fresh schema names for the stores of one conformance file, each dropped on the server after the
 * file. Call at the top of the file.
 */
export function useServerSchemas(prefix: string): () => string {
  const created: string[] = [];
  let count = 0;
  afterAll(async () => {
    if (databaseUrl === undefined || created.length === 0) return;
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      // With the schemas of their tenants (store.forTenant), named <schema>_t_<tenant>.
      const tenants = await client.query<{ nspname: string }>(
        'select nspname from pg_namespace where nspname like any($1)',
        [created.map((schema) => `${schema}\\_t\\_%`)],
      );
      for (const schema of [...created, ...tenants.rows.map((row) => row.nspname)])
        await client.query(`drop schema if exists ${pg.escapeIdentifier(schema)} cascade`);
    } finally {
      await client.end();
    }
  });
  return () => {
    const schema = `${prefix}_${process.pid}_${++count}`;
    created.push(schema);
    return schema;
  };
}

/** Another store on `store`'s schema with its own pool and LISTEN connection, as another process would open. */
export function openPeer(store: EventStore): Promise<EventStore> {
  const postgres = store as PostgresEventStore;
  return PostgresEventStore.create(
    { connectionString: databaseUrl!, pool: { max: 2 } },
    { events: postgres.registry, schema: postgres.schema, pageSize: 7, ...patientHorizon },
  );
}

/**
 * Bounds of the conformance cases on PostgreSQL. They only stop a broken store from hanging the
 * run: a case waits for a delivery, never for a time, and a loaded machine (other suites on the
 * same cores and server) must not turn a slow delivery into a failure.
 */
export const patientBounds = { deliveryTimeoutMs: 30_000, caseTimeoutMs: 120_000 } as const;

/**
 * The server conformance stores wait up to a minute (instead of 5 s) for their own appends to become
 * readable in the global log: a transaction another test file holds open on the shared server holds
 * every reader's horizon back meanwhile, and on a loaded machine it may stay open for more than 5 s.
 * Only a hang reaches the bound.
 */
export const patientHorizon = { horizonWaitMs: 60_000 } as const;
