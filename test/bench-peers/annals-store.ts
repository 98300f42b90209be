/**
 * Annals' PostgreSQL store behind {@link PeerStore}: the workspace's own sources (see tsconfig.json),
 * one schema of the database DATABASE_URL names, a pool as wide as the widest workload.
 */
import { PostgresEventStore } from '@annals/postgres';
import type pg from 'pg';
import { type GlobalReader, keyOf, type PeerEvent, type PeerStore, pollingReader } from './peer-store.js';

export interface AnnalsPeerOptions {
  readonly url: string;
  readonly schema: string;
  readonly poolSize: number;
  /** Rows per page of reads (the store's default is 1000). */
  readonly pageSize: number;
  /** A session on the same database for DDL and ANALYZE. */
  readonly admin: pg.Pool;
}

/** Opens the store on a fresh schema (dropped first when a previous run left it). */
export async function openAnnals(options: AnnalsPeerOptions): Promise<PeerStore> {
  const { admin, schema } = options;
  const dropSchema = () => admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  const open = async () => {
    // No event definitions: any type is stored as plain JSON, unvalidated, as Emmett stores it.
    const created = await PostgresEventStore.create(
      { connectionString: options.url, pool: { max: options.poolSize } },
      { schema, pageSize: options.pageSize },
    );
    await created.migrate();
    return created;
  };
  await dropSchema();
  let store = await open();
  const analyze = async () => {
    const { rows } = await admin.query<{ tablename: string }>(
      'SELECT tablename FROM pg_tables WHERE schemaname = $1',
      [schema],
    );
    for (const { tablename } of rows) await admin.query(`ANALYZE ${schema}."${tablename}"`);
  };
  return {
    name: 'Annals',
    deliversEveryEvent: true,
    append: async (stream: string, events: readonly PeerEvent[]) => {
      await store.append(stream, events);
    },
    readStream: async (stream) => {
      let n = 0;
      for await (const _ of store.readStream(stream)) n++;
      return n;
    },
    readAll: async () => {
      let n = 0;
      for await (const _ of store.readAll()) n++;
      return n;
    },
    pollGlobal: () => {
      let next = 0n;
      return pollingReader(async (seen) => {
        let got = 0;
        for await (const event of store.readAll({ fromPosition: next })) {
          seen.push(keyOf(event.data));
          next = event.position + 1n;
          got++;
        }
        return got;
      });
    },
    subscribeGlobal: async (): Promise<GlobalReader> => {
      const seen: string[] = [];
      const subscription = store.subscribeToAll();
      const loop = (async () => {
        for await (const event of subscription) seen.push(keyOf(event.data));
      })();
      return {
        seen,
        stop: async () => {
          await subscription.stop();
          await loop;
        },
      };
    },
    countStored: async () => {
      const { rows } = await admin.query<{ n: string }>(`SELECT count(*) AS n FROM ${schema}.events`);
      return Number(rows[0]!.n);
    },
    reset: async () => {
      await store.close();
      await dropSchema();
      store = await open();
    },
    analyze,
    close: async () => {
      await store.close();
      await dropSchema();
    },
  };
}
