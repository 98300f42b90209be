import { PostgresCheckpointStore, PostgresEventStore } from '@annals/postgres';
import { runEventStoreConformance, runTenantIsolationConformance } from '@annals/testing';
import { describe } from 'vitest';
import {
  databaseUrl,
  openPeer,
  patientBounds,
  patientHorizon,
  useServerSchemas,
} from './support/postgres-server.js';

const nextSchema = useServerSchemas('conf_pool');

describe.skipIf(!databaseUrl)('PostgresEventStore on a server', () => {
  // Through the store's own pool: the append is a named prepared statement.
  runEventStoreConformance({
    name: 'PostgresEventStore (server, own pool)',
    ...patientBounds,
    capabilities: {
      multiProcess: true,
      concurrentCommits: true,
      maxEventBytes: 2 * 1024 * 1024,
      appendConditions: true,
    },
    async createStore(options) {
      const store = await PostgresEventStore.create(
        { connectionString: databaseUrl!, pool: { max: 4 } },
        { ...options, ...patientHorizon, schema: nextSchema(), pageSize: 7 },
      );
      await store.migrate();
      return store;
    },
    openPeer: (store) => openPeer(store),
  });
});

describe.skipIf(!databaseUrl)('PostgresEventStore tenants on a server', () => {
  // Each tenant's schema is <schema>_t_<tenant>: the file drops the base schema's tenants too.
  const tenantSchemas = useServerSchemas('conf_tenants');
  runTenantIsolationConformance({
    name: 'PostgresEventStore (server)',
    ...patientBounds,
    createStore: (options) =>
      PostgresEventStore.create(
        { connectionString: databaseUrl!, pool: { max: 4 } },
        { ...options, ...patientHorizon, schema: tenantSchemas() },
      ),
    prepareTenant: async (tenant) => void (await (tenant as PostgresEventStore).migrate()),
    createCheckpointStore: (tenant) => new PostgresCheckpointStore(tenant as PostgresEventStore),
  });
});
