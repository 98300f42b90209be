import {
  InMemoryCheckpointStore,
  InMemoryDeadLetterStore,
  InMemoryLeaseStore,
  InMemoryProjectionControl,
  InMemorySnapshotStore,
} from '@annals/core';
import {
  PostgresCheckpointStore,
  PostgresDeadLetterStore,
  PostgresEventStore,
  PostgresLeasedCheckpointStore,
  PostgresLeaseStore,
  PostgresProjectionControl,
  PostgresSnapshotStore,
} from '@annals/postgres';
import {
  runCheckpointStoreConformance,
  runDeadLetterStoreConformance,
  runLeasedCheckpointStoreConformance,
  runProjectionControlConformance,
  runSnapshotStoreConformance,
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
runLeasedCheckpointStoreConformance({
  name: 'InMemoryCheckpointStore with InMemoryLeaseStore',
  createStores: () => {
    const leases = new InMemoryLeaseStore();
    return { leases, checkpoints: new InMemoryCheckpointStore({ leases }) };
  },
});

runDeadLetterStoreConformance({
  name: 'InMemoryDeadLetterStore',
  createDeadLetterStore: () => new InMemoryDeadLetterStore(),
});
runProjectionControlConformance({
  name: 'InMemoryProjectionControl',
  createControls: async () => {
    // Runners of one process share one instance.
    const control = new InMemoryProjectionControl();
    return [control, control];
  },
});

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

/** A migrated PostgreSQL store in a fresh schema (or a second store on `schema`), closed after the file. */
async function openStore(target: 'pglite' | 'server', schema?: string): Promise<PostgresEventStore> {
  if (schema === undefined) {
    schema = `kits_${process.pid}_${++schemas}`;
    if (target === 'server') serverSchemas.push(schema);
  }
  const store = await PostgresEventStore.create(
    target === 'pglite' ? { pglite: pglite! } : { connectionString: databaseUrl!, pool: { max: 2 } },
    { schema },
  );
  stores.push(store);
  await store.migrate();
  return store;
}

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
    runDeadLetterStoreConformance({
      name: `PostgresDeadLetterStore (${target})`,
      createDeadLetterStore: async () => new PostgresDeadLetterStore(await openStore(target)),
    });
    runProjectionControlConformance({
      name: `PostgresProjectionControl (${target})`,
      createControls: async () => {
        // Two stores on one schema, as two nodes open it.
        const first = await openStore(target);
        const second = await openStore(target, first.schema);
        return [new PostgresProjectionControl(first), new PostgresProjectionControl(second)];
      },
    });
    runLeasedCheckpointStoreConformance({
      name: `PostgresLeasedCheckpointStore (${target})`,
      createStores: async () => {
        const store = await openStore(target);
        return {
          leases: new PostgresLeaseStore(store),
          checkpoints: new PostgresLeasedCheckpointStore(store),
        };
      },
    });
  });
}
