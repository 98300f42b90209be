import { InMemoryProcessStore } from '@annals/core';
import { type PostgresEventStore, PostgresProcessStore } from '@annals/postgres';
import { runTimerStoreConformance } from '@annals/testing';
import { describe } from 'vitest';
import { type TargetName, targets, useTestDatabase } from '../postgres/support/test-database.js';

// The timer stores of every adapter (process managers' `ProcessStore`) pass the same cases.
runTimerStoreConformance({ name: 'InMemoryProcessStore', createStore: () => new InMemoryProcessStore() });

const db = useTestDatabase('timers');

/** A PostgreSQL store on `schema` (a fresh, migrated one when omitted), closed after the file. */
function openStore(target: TargetName, schema?: string): Promise<PostgresEventStore> {
  return db.open(target, schema === undefined ? {} : { schema });
}

/** The schema each process store lives in, for a second handle on it. */
const schemaOf = new WeakMap<object, string>();

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
