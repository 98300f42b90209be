import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { InvalidArgument } from '@annals/core';
import { Kysely, type PGlite as KyselyPGlite, PGliteDialect, PostgresDialect } from 'kysely';
import type { ArrayRowsQuery } from '../store/event-pages.js';
import type { ListenFn } from './notification-listener.js';

/** Options passed to node-postgres' `Pool` (`max`, `idleTimeoutMillis`, `ssl`, ...). */
export interface PostgresPoolOptions {
  /** Most connections the pool opens. node-postgres' default is 10. */
  readonly max?: number;
  readonly [option: string]: unknown;
}

/** Connect to a PostgreSQL server through a node-postgres `Pool` the store creates and ends. */
export interface PostgresServerConnection {
  /** `postgres://user:password@host:5432/database`. Also used for the dedicated LISTEN connection. */
  readonly connectionString: string;
  readonly pool?: PostgresPoolOptions;
  /**
   * Where the dedicated `LISTEN` connection goes, when not to `connectionString`: a direct address
   * of the server when `connectionString` points at a pooler in transaction mode, which cannot hold
   * a `LISTEN`.
   */
  readonly listenConnectionString?: string;
  /**
   * Send the append as a named prepared statement, parsed once per connection. Default true. Turn it
   * off behind a pooler in transaction mode that does not support prepared statements (PgBouncer
   * before 1.21, or without `max_prepared_statements`).
   */
  readonly preparedStatements?: boolean;
}

/**
 * Use a Kysely instance you own (server or PGlite dialect). The store never destroys it. Without
 * `listenConnectionString`, subscriptions are woken by appends in this process and by polling only.
 */
export interface KyselyConnection {
  readonly kysely: Kysely<any>;
  /** A connection string for the dedicated LISTEN connection (server only). */
  readonly listenConnectionString?: string;
}

/** The part of a PGlite instance the store uses (structural, so `@electric-sql/pglite` stays optional). */
export interface PGliteInstance extends KyselyPGlite {
  listen(channel: string, callback: (payload: string) => void): Promise<() => Promise<void>>;
}

/**
 * The embedded mode: a PGlite instance you own (never closed by the store), or a data folder path
 * the store opens with `PGlite.create(path)` and closes on `close()`. `'memory://'` keeps it in memory.
 */
export interface PGliteConnection {
  readonly pglite: PGliteInstance | string;
}

/** Where a `PostgresEventStore` keeps its data. */
export type PostgresConnectionOptions = PostgresServerConnection | KyselyConnection | PGliteConnection;

/** What the store needs from a connection, however it was made. */
export interface OpenedConnection {
  readonly kysely: Kysely<any>;
  /** False for PGlite: one connection in one process. */
  readonly multiProcess: boolean;
  /** Reads with array rows on the pool the store created (`{ connectionString }` only). */
  readonly arrayRows?: ArrayRowsQuery | undefined;
  /** Opens a dedicated LISTEN on `channel`, when the connection allows one. */
  readonly listen: ((channel: string) => ListenFn) | undefined;
  /** Ends what the store created (a pool, a PGlite it opened); leaves what the caller passed alone. */
  close(): Promise<void>;
}

/** Builds the Kysely instance (and what it needs) for the given connection options. */
export async function openConnection(options: PostgresConnectionOptions): Promise<OpenedConnection> {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgument(
      `PostgresEventStore.create expects { connectionString }, { kysely } or { pglite }, found ${String(options)}.`,
    );
  }
  if ('kysely' in options && options.kysely !== undefined) return fromKysely(options);
  if ('pglite' in options && options.pglite !== undefined) return fromPGlite(options.pglite);
  if ('connectionString' in options && typeof options.connectionString === 'string') {
    return fromConnectionString(options);
  }
  throw new InvalidArgument(
    `PostgresEventStore.create expects { connectionString }, { kysely } or { pglite }, found keys ${JSON.stringify(Object.keys(options))}.`,
  );
}

async function fromConnectionString(options: PostgresServerConnection): Promise<OpenedConnection> {
  const pg = await importPg();
  const pool = new pg.Pool({ ...options.pool, connectionString: options.connectionString });
  // An idle pooled connection whose backend ended (restart, pg_terminate_backend) emits 'error' on
  // the pool; the pool drops it and opens another on demand. Unhandled, the event would crash the process.
  pool.on('error', () => {});
  // The same for a connection that is checked out when its backend ends (between two statements of a
  // transaction, or by idle_in_transaction_session_timeout): the statement in flight, or the next one,
  // rejects and reports it; the 'error' event itself must not crash the process.
  pool.on('connect', (client) => {
    client.on('error', () => {});
    if (options.preparedStatements !== false) prepareMarkedStatements(client);
  });
  const kysely = new Kysely<any>({ dialect: new PostgresDialect({ pool }) });
  return {
    kysely,
    multiProcess: true,
    // The hot reads skip Kysely here: node-postgres builds each row as an array, not an object.
    arrayRows: async (text, values) =>
      (await pool.query<unknown[]>({ text, values: values as unknown[], rowMode: 'array' })).rows,
    listen: (channel) =>
      listenWithPg(pg, options.listenConnectionString ?? options.connectionString, channel),
    close: () => kysely.destroy(),
  };
}

function fromKysely(options: KyselyConnection): OpenedConnection {
  const { kysely, listenConnectionString } = options;
  if (!(kysely instanceof Kysely)) {
    throw new InvalidArgument(`{ kysely } must be a Kysely instance, found ${String(kysely)}.`);
  }
  const multiProcess = kysely.getExecutor().adapter.supportsMultipleConnections !== false;
  return {
    kysely,
    multiProcess,
    listen:
      listenConnectionString === undefined
        ? undefined
        : (channel) => async (onNotify, onLost) =>
            listenWithPg(await importPg(), listenConnectionString, channel)(onNotify, onLost),
    close: async () => {},
  };
}

async function fromPGlite(pglite: PGliteInstance | string): Promise<OpenedConnection> {
  let instance: PGliteInstance;
  let owned = false;
  if (typeof pglite === 'string') {
    let module: typeof import('@electric-sql/pglite');
    try {
      module = await import('@electric-sql/pglite');
    } catch (cause) {
      throw new InvalidArgument(
        'The embedded mode ({ pglite }) needs the @electric-sql/pglite package; install it next to @annals/postgres.',
        { cause },
      );
    }
    // PGlite creates the data folder but not its parents; `memory://` and other schemes are not folders.
    if (!/^[a-z]+:\/\//i.test(pglite)) await mkdir(dirname(resolve(pglite)), { recursive: true });
    instance = (await module.PGlite.create(pglite)) as unknown as PGliteInstance;
    owned = true;
  } else if (typeof pglite?.query === 'function' && typeof pglite.listen === 'function') {
    instance = pglite;
  } else {
    throw new InvalidArgument(
      `{ pglite } must be a PGlite instance or a data folder path, found ${String(pglite)}.`,
    );
  }
  const kysely = new Kysely<any>({ dialect: new PGliteDialect({ pglite: instance }) });
  return {
    kysely,
    multiProcess: false,
    listen: (channel) => async (onNotify) => {
      const unlisten = await instance.listen(channel, () => onNotify());
      return async () => {
        if (!instance.closed) await unlisten();
      };
    },
    // Kysely's destroy() closes the PGlite instance: only do it when the store opened it.
    close: async () => {
      if (owned) await kysely.destroy();
    },
  };
}

type PgModule = typeof import('pg');

async function importPg(): Promise<PgModule> {
  try {
    const module = (await import('pg')) as PgModule & { default?: PgModule };
    return module.default ?? module;
  } catch (cause) {
    throw new InvalidArgument(
      'A server connection needs the pg (node-postgres) package; install it next to @annals/postgres.',
      { cause },
    );
  }
}

function listenWithPg(pg: PgModule, connectionString: string, channel: string): ListenFn {
  return async (onNotify, onLost) => {
    const client = new pg.Client({ connectionString });
    let closing = false;
    const lost = (error: unknown) => {
      if (!closing) onLost(error);
    };
    client.on('error', lost);
    client.on('end', () => lost(new Error('the LISTEN connection ended')));
    client.on('notification', (message) => {
      if (message.channel === channel) onNotify();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${quoteIdentifier(channel)}`);
    } catch (error) {
      closing = true;
      await client.end().catch(() => {});
      throw error;
    }
    return async () => {
      closing = true;
      await client.end().catch(() => {});
    };
  };
}

function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * Statements whose text starts with this comment are sent as named prepared statements on the pools
 * the store creates itself (`{ connectionString }`): each connection parses and plans them once
 * instead of on every call. The append is one (it measured ~20% faster per call prepared). Elsewhere
 * (a Kysely instance you pass, PGlite) the comment is only a comment.
 */
export const PREPARED_STATEMENT_MARKER = '/* annals:prepared */';

/** Most marked statement texts one connection keeps prepared; further ones are sent unnamed. */
const MAX_PREPARED_PER_CONNECTION = 64;

/** Makes `client` send marked statements (see {@link PREPARED_STATEMENT_MARKER}) as named ones. */
function prepareMarkedStatements(client: { query: (...args: any[]) => any }): void {
  const query = client.query.bind(client);
  const names = new Map<string, string>();
  let prepared = 0;
  client.query = (config: unknown, values?: unknown, callback?: unknown) => {
    if (
      typeof config === 'string' &&
      callback === undefined &&
      Array.isArray(values) &&
      config.startsWith(PREPARED_STATEMENT_MARKER)
    ) {
      let name = names.get(config);
      if (name === undefined && names.size < MAX_PREPARED_PER_CONNECTION) {
        name = `annals_${++prepared}`;
        names.set(config, name);
      }
      if (name !== undefined) {
        return (query({ name, text: config, values }) as Promise<unknown>).catch((error: unknown) => {
          // The statement cannot be reused (a migration changed what it returns, or the session's
          // prepared statements were discarded): the next call prepares it again under a new name.
          const code = (error as { code?: unknown })?.code;
          if (code === '0A000' || code === '26000') names.delete(config);
          throw error;
        });
      }
    }
    return query(config, values, callback);
  };
}
