import { InMemoryKeyStore, type KeyStore } from '@annals/core';
import { PostgresEventStore, PostgresKeyStore } from '@annals/postgres';
import { runKeyStoreConformance } from '@annals/testing';
import type { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, beforeAll, describe } from 'vitest';
import { startPGlite } from '../support/pglite.js';

// The key stores of personal data pass the same cases.
runKeyStoreConformance({ name: 'InMemoryKeyStore', createKeyStore: () => new InMemoryKeyStore() });

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

/** A fresh, migrated PostgreSQL store, closed after the file. */
async function openStore(target: 'pglite' | 'server', schema?: string): Promise<PostgresEventStore> {
  const name = schema ?? `keys_${process.pid}_${++schemas}`;
  if (target === 'server' && schema === undefined) serverSchemas.push(name);
  const store = await PostgresEventStore.create(
    target === 'pglite' ? { pglite: pglite! } : { connectionString: databaseUrl!, pool: { max: 2 } },
    { schema: name },
  );
  stores.push(store);
  if (schema === undefined) await store.migrate();
  return store;
}

const schemaOf = new WeakMap<KeyStore, string>();
const targets = databaseUrl === undefined ? (['pglite'] as const) : (['pglite', 'server'] as const);
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
