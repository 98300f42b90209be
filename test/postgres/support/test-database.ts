import {
  type PostgresConnectionOptions,
  PostgresEventStore,
  type PostgresEventStoreOptions,
} from '@annals/postgres';
import type { PGlite } from '@electric-sql/pglite';
import { Kysely, type LogEvent, PGliteDialect, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { startPGlite } from '../../support/pglite.js';

/** The server the server-only tests use; they are skipped when it is not set. */
export const databaseUrl = process.env.DATABASE_URL;

/** Where a test runs: the embedded PGlite always, the server when DATABASE_URL is set. */
export type TargetName = 'pglite' | 'server';
export const targets: readonly TargetName[] = databaseUrl === undefined ? ['pglite'] : ['pglite', 'server'];

/** A Kysely instance that counts the statements it sends. */
export interface CountingKysely {
  readonly kysely: Kysely<any>;
  /** Statements sent since the last `reset()`. */
  readonly queries: string[];
  /** Their parameters, in the same order. */
  readonly parameters: (readonly unknown[])[];
  reset(): void;
}

/**
 * Per test file: one PGlite (creating one takes seconds), fresh schemas for every store so tests
 * are isolated, and on the server every schema dropped at the end. Call at the top of the file.
 */
export function useTestDatabase(file: string, options: { readonly pglite?: boolean } = {}) {
  let pglite: PGlite | undefined;
  const serverSchemas: string[] = [];
  const cleanups: (() => Promise<unknown>)[] = [];
  let count = 0;

  beforeAll(async () => {
    if (options.pglite !== false) pglite = await startPGlite();
  });
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
    if (databaseUrl !== undefined && serverSchemas.length > 0) {
      await withServer(async (client) => {
        for (const schema of serverSchemas) {
          await client.query(`drop schema if exists ${pg.escapeIdentifier(schema)} cascade`);
        }
      });
    }
    await pglite?.close();
  });

  const api = {
    /** The file's PGlite instance. */
    get pglite(): PGlite {
      if (pglite === undefined) throw new Error('the PGlite instance is created in beforeAll');
      return pglite;
    },
    /** A schema name no other test (or test file, or process) uses. */
    schema(target: TargetName): string {
      const name = `t_${file}_${process.pid}_${++count}`;
      if (target === 'server') serverSchemas.push(name);
      return name;
    },
    /** The connection options of a target (a pool the store owns on the server). */
    connection(target: TargetName): PostgresConnectionOptions {
      return target === 'pglite' ? { pglite: api.pglite } : { connectionString: databaseUrl! };
    },
    /** A migrated store in a fresh schema, closed after the file. */
    async open(target: TargetName, options: PostgresEventStoreOptions = {}): Promise<PostgresEventStore> {
      const store = await PostgresEventStore.create(api.connection(target), {
        ...options,
        schema: options.schema ?? api.schema(target),
      });
      cleanups.push(() => store.close());
      await store.migrate();
      return store;
    },
    /** A Kysely instance for the target whose log records every statement; destroyed after the file. */
    countingKysely(target: TargetName): CountingKysely {
      const queries: string[] = [];
      const parameters: (readonly unknown[])[] = [];
      const log = (event: LogEvent) => {
        // The coalesced NOTIFY sent after appends commit is not part of any append or read.
        if (/^select pg_notify\(/.test(event.query.sql)) return;
        queries.push(event.query.sql);
        parameters.push(event.query.parameters);
      };
      const kysely =
        target === 'pglite'
          ? new Kysely<any>({ dialect: new PGliteDialect({ pglite: api.pglite }), log })
          : new Kysely<any>({
              dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: databaseUrl, max: 4 }) }),
              log,
            });
      // Destroying a PGlite Kysely would close the shared PGlite instance.
      if (target === 'server') cleanups.push(() => kysely.destroy());
      return {
        kysely,
        queries,
        parameters,
        reset: () => {
          queries.splice(0);
          parameters.splice(0);
        },
      };
    },
    /** Runs raw SQL against the target, outside any store. */
    async raw<R = Record<string, unknown>>(
      target: TargetName,
      text: string,
      params: unknown[] = [],
    ): Promise<R[]> {
      if (target === 'pglite') return (await api.pglite.query<R>(text, params)).rows;
      return withServer(async (client) => (await client.query(text, params)).rows as R[]);
    },
  };
  return api;
}

/** Runs `work` on a fresh plain pg connection to the server, closed afterwards. */
export async function withServer<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = await connectServer();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/** A plain pg connection to the server (another application, as far as the store knows). */
export async function connectServer(): Promise<pg.Client> {
  if (databaseUrl === undefined) throw new Error('DATABASE_URL is not set');
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'annals-test-raw' });
  client.on('error', () => {});
  await client.connect();
  return client;
}

/** Resolves true once `check` returns true, false when `boundMs` passes first (never asserts time). */
export async function eventually(check: () => Promise<boolean>, boundMs = 60_000): Promise<boolean> {
  const deadline = Date.now() + boundMs;
  for (let delay = 10; ; delay = Math.min(delay * 2, 200)) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

export { sql };
