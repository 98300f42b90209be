import { InMemoryEventStore } from '@annals/core';
import { PostgresEventStore } from '@annals/postgres';
import { dcbRaceCase, runEventStoreConformance } from '@annals/testing';
import type { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe } from 'vitest';
import { databaseUrl, useServerSchemas } from '../conformance/support/postgres-server.js';
import { startPGlite } from '../support/pglite.js';

// The concurrency oracle of the conformance suite with many racers (`pnpm test:dcb`).
const RACERS = Number(process.env.DCB_RACERS ?? 240);
const cases = [dcbRaceCase(RACERS)];
const conditions = { appendConditions: true };

runEventStoreConformance({
  name: 'InMemoryEventStore',
  capabilities: conditions,
  cases,
  createStore: (options) => new InMemoryEventStore(options),
});

let pglite: PGlite | undefined;
beforeAll(async () => {
  pglite = await startPGlite();
});
afterAll(async () => {
  await pglite?.close();
});

describe('PGlite', () => {
  runEventStoreConformance({
    name: 'PostgresEventStore (PGlite)',
    capabilities: conditions,
    cases,
    async createStore(options) {
      const store = await PostgresEventStore.create(
        { pglite: pglite! },
        { ...options, schema: `dcb_race_${process.pid}` },
      );
      await store.migrate();
      return store;
    },
  });
});

const nextSchema = useServerSchemas('dcb_race');
describe.skipIf(!databaseUrl)('server', () => {
  runEventStoreConformance({
    name: 'PostgresEventStore (server, pool of 16)',
    capabilities: { ...conditions, multiProcess: true, concurrentCommits: true },
    cases,
    openPeer: () => {
      throw new Error('not used');
    },
    async createStore(options) {
      const store = await PostgresEventStore.create(
        { connectionString: databaseUrl!, pool: { max: 16 } },
        { ...options, schema: nextSchema() },
      );
      await store.migrate();
      return store;
    },
  });
});
