import type { EventStore } from '@annals/core';
import { PostgresEventStore } from '@annals/postgres';
import { runEventStoreConformance } from '@annals/testing';
import type { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe } from 'vitest';
import { startPGlite } from '../support/pglite.js';

// One PGlite for the whole file (creating one takes seconds); each store gets a fresh schema, so
// every case starts from an empty event log.
let pglite: PGlite | undefined;
let schemas = 0;
const prefix = `conf_${process.pid}_`;
const nextSchema = () => `${prefix}${++schemas}`;

beforeAll(async () => {
  pglite = await startPGlite();
});
afterAll(async () => {
  await pglite?.close();
});

describe('PostgresEventStore on PGlite', () => {
  runEventStoreConformance({
    name: 'PostgresEventStore (PGlite)',
    capabilities: { multiProcess: false, concurrentCommits: false, maxEventBytes: 2 * 1024 * 1024 },
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

const databaseUrl = process.env.DATABASE_URL;

/** Another store on `store`'s schema with its own pool and LISTEN connection, as another process would open. */
async function openPeer(store: EventStore): Promise<EventStore> {
  const postgres = store as PostgresEventStore;
  return PostgresEventStore.create(
    { connectionString: databaseUrl!, pool: { max: 2 } },
    { events: postgres.registry, schema: postgres.schema, pageSize: 7 },
  );
}

describe.skipIf(!databaseUrl)('PostgresEventStore on a server', () => {
  const created: string[] = [];
  // One pool for every case (each store still gets its own schema and LISTEN connection); the
  // connection-string path is covered by test/postgres.
  let kysely: Kysely<any> | undefined;
  beforeAll(() => {
    kysely = new Kysely({
      dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: databaseUrl, max: 8 }) }),
    });
  });
  afterAll(async () => {
    await kysely?.destroy();
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      for (const schema of created)
        await client.query(`drop schema if exists ${pg.escapeIdentifier(schema)} cascade`);
    } finally {
      await client.end();
    }
  });

  // Through a Kysely instance: the append (a call of annals_append) is sent unnamed.
  runEventStoreConformance({
    name: 'PostgresEventStore (server, Kysely instance)',
    capabilities: { multiProcess: true, concurrentCommits: true, maxEventBytes: 2 * 1024 * 1024 },
    async createStore(options) {
      const schema = nextSchema();
      created.push(schema);
      // Small pages make catch-up reads span several pages while writers append.
      const store = await PostgresEventStore.create(
        { kysely: kysely!, listenConnectionString: databaseUrl! },
        { ...options, schema, pageSize: 7 },
      );
      await store.migrate();
      return store;
    },
    openPeer: (store) => openPeer(store),
  });

  // Through the store's own pool: the append is a named prepared statement.
  runEventStoreConformance({
    name: 'PostgresEventStore (server, own pool)',
    capabilities: { multiProcess: true, concurrentCommits: true, maxEventBytes: 2 * 1024 * 1024 },
    async createStore(options) {
      const schema = nextSchema();
      created.push(schema);
      const store = await PostgresEventStore.create(
        { connectionString: databaseUrl!, pool: { max: 4 } },
        { ...options, schema, pageSize: 7 },
      );
      await store.migrate();
      return store;
    },
    openPeer: (store) => openPeer(store),
  });
});
