/**
 * Emmett's PostgreSQL store (`@event-driven-io/emmett-postgresql`, from the registry) behind
 * {@link PeerStore}, in a database of its own on the same server: its tables live in `public` and its
 * migration looks functions up by name only, so a schema of a shared database would not isolate it.
 */
import { dumbo } from '@event-driven-io/dumbo';
import { getPostgreSQLEventStore, readMessagesBatch } from '@event-driven-io/emmett-postgresql';
import pg from 'pg';
import { type GlobalReader, keyOf, type PeerEvent, type PeerStore, pollingReader } from './peer-store.js';

export interface EmmettPeerOptions {
  /** DATABASE_URL: the server; the store gets the database `database` on it. */
  readonly url: string;
  readonly database: string;
  readonly poolSize: number;
  /** Rows per read of the global log (readMessagesBatch's batchSize). */
  readonly pageSize: number;
  /** A session on DATABASE_URL's database, to create and drop the store's database. */
  readonly admin: pg.Pool;
}

/** Creates the database (dropped first when a previous run left it) and opens the store on it. */
export async function openEmmett(options: EmmettPeerOptions): Promise<PeerStore> {
  const { admin, database } = options;
  await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${database}`);
  const url = new URL(options.url);
  url.pathname = `/${database}`;
  const connectionString = url.toString();
  // Its own pg.Pool, as wide as Annals' (Emmett's default is node-postgres' 10 connections).
  const pool = new pg.Pool({ connectionString, max: options.poolSize });
  pool.on('error', () => {});
  const store = getPostgreSQLEventStore(connectionString, { connectionOptions: { pool } });
  await store.schema.migrate();
  // The same pool as an SQL executor, for the global read that Emmett's consumers run.
  const executor = dumbo({ connectionString, pool }).execute;
  let consumers = 0;
  return {
    name: 'Emmett',
    deliversEveryEvent: false,
    append: async (stream, events: readonly PeerEvent[]) => {
      await store.appendToStream(stream, [...events]);
    },
    readStream: async (stream) => (await store.readStream(stream)).events.length,
    readAll: async () => {
      let n = 0;
      let after = 0n;
      for (;;) {
        const batch = await readMessagesBatch(executor, { after, batchSize: options.pageSize });
        n += batch.messages.length;
        after = batch.currentGlobalPosition;
        if (batch.messages.length === 0 || !batch.areMessagesLeft) return n;
      }
    },
    pollGlobal: () => {
      // What Emmett's message puller does between its pauses: the next batch after the position
      // the previous one ended at.
      let after = 0n;
      return pollingReader(async (seen) => {
        const batch = await readMessagesBatch(executor, { after, batchSize: options.pageSize });
        for (const message of batch.messages) seen.push(keyOf(message.data));
        after = batch.currentGlobalPosition;
        return batch.messages.length;
      });
    },
    subscribeGlobal: async (): Promise<GlobalReader> => {
      const seen: string[] = [];
      const consumer = store.consumer();
      consumer.reactor({
        processorId: `bench-peers-${++consumers}`,
        eachMessage: async (message) => {
          seen.push(keyOf(message.data));
        },
      });
      const running = consumer.start().catch((error: unknown) => {
        console.error('Emmett consumer failed:', error);
      });
      return {
        seen,
        stop: async () => {
          await consumer.stop();
          await running;
        },
      };
    },
    countStored: async () => {
      const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM emt_messages');
      return Number(rows[0]!.n);
    },
    reset: async () => {
      await store.schema.dangerous.truncate({ resetSequences: true });
    },
    analyze: async () => {
      await pool.query('ANALYZE');
    },
    close: async () => {
      await store.close();
      await pool.end().catch(() => {});
      await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    },
  };
}
