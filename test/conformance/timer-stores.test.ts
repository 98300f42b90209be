import { InMemoryProcessStore } from '@annals/core';
import { PostgresEventStore, PostgresProcessStore } from '@annals/postgres';
import { runTimerStoreConformance } from '@annals/testing';
import type { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, beforeAll, describe } from 'vitest';
import { startPGlite } from '../support/pglite.js';

// The timer stores of every adapter (process managers' `ProcessStore`) pass the same cases.
runTimerStoreConformance({ name: 'InMemoryProcessStore', createStore: () => new InMemoryProcessStore() });

const databaseUrl = process.env.DATABASE_URL;
let pglite: PGlite | undefined;
const stores: PostgresEventStore[] = [];
const serverSchemas: string[] = [];
let schemas = 0;

beforeAll(async () => {
  pglite = await startPGlite();
});
afterAll(async () => {
  for (const store of stores) await store.close();
  await pglite?.close();
  if (databaseUrl !== undefined && serverSchemas.length > 0) {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      for (const schema of serverSchemas)
        await client.query(`drop schema if exists ${pg.escapeIdentifier(schema)} cascade`);
    } finally {
      await client.end();
    }
  }
});

/** A PostgreSQL store on `schema` (a fresh, migrated one when omitted), closed after the file. */
async function openStore(target: 'pglite' | 'server', schema?: string): Promise<PostgresEventStore> {
  const fresh = schema === undefined;
  const name = schema ?? `timers_${process.pid}_${++schemas}`;
  if (target === 'server' && fresh) serverSchemas.push(name);
  const store = await PostgresEventStore.create(
    target === 'pglite' ? { pglite: pglite! } : { connectionString: databaseUrl!, pool: { max: 2 } },
    { schema: name },
  );
  stores.push(store);
  if (fresh) await store.migrate();
  return store;
}

/** The schema each process store lives in, for a second handle on it. */
const schemaOf = new WeakMap<object, string>();

const targets = databaseUrl === undefined ? (['pglite'] as const) : (['pglite', 'server'] as const);
for (const target of targets) {
  describe(target, () => {
    runTimerStoreConformance({
      name: `PostgresProcessStore (${target})`,
      createStore: async () => {
        const store = await openStore(target);
        const processes = new PostgresProcessStore(store);
        schemaOf.set(processes, store.schema);
        return processes;
      },
      // Another store on the same schema: on the server another pool (another node, or the same
      // one restarted); on PGlite the same database through a second store.
      openPeer: async (processes) =>
        new PostgresProcessStore(await openStore(target, schemaOf.get(processes))),
    });
  });
}
