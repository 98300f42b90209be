import { PostgresCheckpointStore, PostgresEventStore } from '@annals/postgres';
import { runEventStoreConformance, runTenantIsolationConformance } from '@annals/testing';
import type { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe } from 'vitest';
import { startPGlite } from '../support/pglite.js';
import { patientBounds } from './support/postgres-server.js';

// The server variants are in postgres-server-*.test.ts, so the three files run side by side.
// One PGlite for the whole file (starting one takes seconds); each store gets a fresh schema, so
// every case starts from an empty event log.
let pglite: PGlite | undefined;
let schemas = 0;
const nextSchema = () => `conf_${process.pid}_${++schemas}`;

beforeAll(async () => {
  pglite = await startPGlite();
});
afterAll(async () => {
  await pglite?.close();
});

describe('PostgresEventStore on PGlite', () => {
  runEventStoreConformance({
    name: 'PostgresEventStore (PGlite)',
    ...patientBounds,
    capabilities: {
      multiProcess: false,
      concurrentCommits: false,
      maxEventBytes: 2 * 1024 * 1024,
      appendConditions: true,
    },
    async createStore(options) {
      const store = await PostgresEventStore.create(
        { pglite: pglite! },
        { ...options, schema: nextSchema() },
      );
      await store.migrate();
      return store;
    },
  });
});

describe('PostgresEventStore tenants on PGlite', () => {
  runTenantIsolationConformance({
    name: 'PostgresEventStore (PGlite)',
    ...patientBounds,
    createStore: (options) =>
      PostgresEventStore.create({ pglite: pglite! }, { ...options, schema: nextSchema() }),
    prepareTenant: async (tenant) => void (await (tenant as PostgresEventStore).migrate()),
    createCheckpointStore: (tenant) => new PostgresCheckpointStore(tenant as PostgresEventStore),
  });
});
