import { InMemoryCheckpointStore, InMemoryProcessStore, InMemorySnapshotStore } from '@annals/core';
import {
  PostgresCheckpointStore,
  PostgresEventStore,
  PostgresProcessStore,
  PostgresSnapshotStore,
} from '@annals/postgres';
import {
  runCheckpointStoreConformance,
  runSnapshotStoreConformance,
  runTimerStoreConformance,
} from '@annals/testing';
import type { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, beforeAll, describe } from 'vitest';
import { startPGlite } from '../support/pglite.js';

// The snapshot and checkpoint stores of every adapter pass the same cases.
runSnapshotStoreConformance({
  name: 'InMemorySnapshotStore',
  createSnapshotStore: () => new InMemorySnapshotStore(),
});
runCheckpointStoreConformance({
  name: 'InMemoryCheckpointStore',
  createCheckpointStore: () => new InMemoryCheckpointStore(),
});
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

/** A migrated PostgreSQL store in a fresh schema (or in `schema`, migrated already), closed after the file. */
async function openStore(target: 'pglite' | 'server', schema?: string): Promise<PostgresEventStore> {
  const migrated = schema !== undefined;
  schema ??= `kits_${process.pid}_${++schemas}`;
  if (target === 'server' && !migrated) serverSchemas.push(schema);
  const store = await PostgresEventStore.create(
    target === 'pglite' ? { pglite: pglite! } : { connectionString: databaseUrl!, pool: { max: 2 } },
    { schema },
  );
  stores.push(store);
  if (!migrated) await store.migrate();
  return store;
}

/** The schema each process store lives in, for a second handle on it. */
const processSchemas = new WeakMap<PostgresProcessStore, string>();

const targets = databaseUrl === undefined ? (['pglite'] as const) : (['pglite', 'server'] as const);
for (const target of targets) {
  describe(target, () => {
    runSnapshotStoreConformance({
      name: `PostgresSnapshotStore (${target})`,
      createSnapshotStore: async () => new PostgresSnapshotStore(await openStore(target)),
    });
    runCheckpointStoreConformance({
      name: `PostgresCheckpointStore (${target})`,
      createCheckpointStore: async () => new PostgresCheckpointStore(await openStore(target)),
    });
    runTimerStoreConformance({
      name: `PostgresProcessStore (${target})`,
      createStore: async () => {
        const store = await openStore(target);
        const processes = new PostgresProcessStore(store);
        processSchemas.set(processes, store.schema);
        return processes;
      },
      // Another store on the same schema: on the server another pool (another node, or the same one
      // restarted); on PGlite the same database through a second store.
      openPeer: async (processes) =>
        new PostgresProcessStore(
          await openStore(target, processSchemas.get(processes as PostgresProcessStore)),
        ),
    });
  });
}
