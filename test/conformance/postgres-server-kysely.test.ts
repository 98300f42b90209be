import { PostgresEventStore } from '@annals/postgres';
import { eventStoreConformanceCases, runEventStoreConformance } from '@annals/testing';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe } from 'vitest';
import {
  databaseUrl,
  openPeer,
  patientBounds,
  patientHorizon,
  useServerSchemas,
} from './support/postgres-server.js';

const nextSchema = useServerSchemas('conf_kysely');

describe.skipIf(!databaseUrl)('PostgresEventStore on a server', () => {
  // One pool for every case (each store still gets its own schema and LISTEN connection); the
  // connection-string path is covered by postgres-server-pool.test.ts and test/postgres.
  let kysely: Kysely<any> | undefined;
  beforeAll(() => {
    kysely = new Kysely({
      dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: databaseUrl, max: 8 }) }),
    });
  });
  afterAll(async () => {
    await kysely?.destroy();
  });

  // Through a Kysely instance: the append (a call of annals_append_tagged) is sent unnamed. Of the
  // DCB groups only the concurrency oracle runs here (the pool file runs them all on the server).
  runEventStoreConformance({
    name: 'PostgresEventStore (server, Kysely instance)',
    cases: eventStoreConformanceCases().filter(
      (c) => !['tags, queries & append conditions', 'dcb.events examples'].includes(c.group),
    ),
    ...patientBounds,
    capabilities: {
      multiProcess: true,
      concurrentCommits: true,
      maxEventBytes: 2 * 1024 * 1024,
      appendConditions: true,
    },
    async createStore(options) {
      // Small pages make catch-up reads span several pages while writers append.
      const store = await PostgresEventStore.create(
        { kysely: kysely!, listenConnectionString: databaseUrl! },
        { ...options, ...patientHorizon, schema: nextSchema(), pageSize: 7 },
      );
      await store.migrate();
      return store;
    },
    openPeer: (store) => openPeer(store),
  });
});
