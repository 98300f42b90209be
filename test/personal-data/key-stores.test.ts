import { InMemoryKeyStore, type KeyStore } from '@annals/core';
import { type PostgresEventStore, PostgresKeyStore } from '@annals/postgres';
import { runKeyStoreConformance } from '@annals/testing';
import { describe } from 'vitest';
import { type TargetName, targets, useTestDatabase } from '../postgres/support/test-database.js';

// The key stores of personal data pass the same cases.
runKeyStoreConformance({ name: 'InMemoryKeyStore', createKeyStore: () => new InMemoryKeyStore() });

const db = useTestDatabase('keys');

/** A PostgreSQL store on `schema` (a fresh, migrated one when omitted), closed after the file. */
function openStore(target: TargetName, schema?: string): Promise<PostgresEventStore> {
  return db.open(target, schema === undefined ? {} : { schema });
}

const schemaOf = new WeakMap<KeyStore, string>();
for (const target of targets) {
  describe(target, () => {
    runKeyStoreConformance({
      name: `PostgresKeyStore (${target})`,
      async createKeyStore() {
        const store = await openStore(target);
        const keys = new PostgresKeyStore(store);
        schemaOf.set(keys, store.schema);
        return keys;
      },
      async openPeer(keys) {
        return new PostgresKeyStore(await openStore(target, schemaOf.get(keys)));
      },
    });
  });
}
