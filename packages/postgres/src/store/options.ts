import {
  type AppendOptions,
  EventRegistry,
  type EventRegistryOptions,
  InvalidArgument,
  type KeyStore,
  type Logger,
  type Projection,
  type ReadAllOptions,
  type ReadStreamOptions,
} from '@annals/core';
import { withDefaultKeys } from '@annals/core/adapter';
import type { Transaction } from 'kysely';
import { PostgresKeyStore } from '../personal-data/postgres-key-store.js';
import type { PostgresProjectionContext } from '../projection/postgres-projection-runner.js';
import { assertSchemaName, DEFAULT_SCHEMA } from '../schema/schema-name.js';
import { assertInlineProjections } from './inline-projections.js';
import { type SubscriptionOutageOptions, toOutageSettings } from './subscription-outage.js';

/** Default largest event: 2 MiB of data + metadata JSON. */
export const DEFAULT_MAX_EVENT_BYTES = 2 * 1024 * 1024;
/** Default rows per page of a read or subscription. */
export const DEFAULT_PAGE_SIZE = 1000;
/** Options of {@link PostgresEventStore.create}. */
export interface PostgresEventStoreOptions extends Omit<EventRegistryOptions, 'events' | 'personalData'> {
  /** Event definitions (or a shared {@link EventRegistry}). */
  readonly events?: EventRegistryOptions['events'] | EventRegistry;
  /**
   * Seal personal fields under per-subject keys (see `personal()` in `@annals/core`): a
   * {@link KeyStore}, or `'postgres'` for a {@link PostgresKeyStore} on this store's connection and
   * schema. Default: `'postgres'` when a definition declares personal fields.
   */
  readonly personalData?: { readonly keys: KeyStore | 'postgres' };
  /** The PostgreSQL schema of the Annals tables (and of the migration bookkeeping). Default `'annals'`. */
  readonly schema?: string;
  /**
   * Largest accepted event: its data and metadata as JSON, in UTF-8 bytes. Larger ones are refused
   * with `EventTooLarge` before anything is sent. Default 2 MiB.
   */
  readonly maxEventBytes?: number;
  /** Most rows per page of reads and subscriptions. Default 1000. */
  readonly pageSize?: number;
  /**
   * Stored bytes (data + metadata, as PostgreSQL stores them) a page aims at: after a page of large
   * events the next one asks for fewer rows, so a catch-up never holds gigabytes at once.
   * Default 16 MiB.
   */
  readonly pageBytes?: number;
  /**
   * Subscriptions poll when idle, waiting `minMs` after a read that found something and doubling
   * the wait after each empty read up to `maxMs`. NOTIFY and appends in this process wake them
   * earlier. Default `{ minMs: 25, maxMs: 1000 }`.
   */
  readonly polling?: { readonly minMs?: number; readonly maxMs?: number };
  /**
   * Notify other processes after appends commit (one `pg_notify` per burst of appends, sent after the
   * commit so concurrent writers keep group commit) so their subscribers wake at once. Default true.
   * Off: subscribers in other processes rely on polling alone.
   */
  readonly notify?: boolean;
  /**
   * How long the notification after a commit waits for more appends to commit and share it, in
   * milliseconds: subscribers in other processes wake at most this much later, and sequential appends
   * do not pay a second statement each. 0 sends at once (appends that commit while one is in flight
   * still share the next). Default 5.
   */
  readonly notifyDelayMs?: number;
  /**
   * Read-your-writes for `readAll`: when the last event this store appended is not below the
   * horizon yet (an older transaction elsewhere in the cluster is still open), `readAll` waits up to
   * this long for it before returning what is safe to read. Never returns an unsafe event; 0 turns the
   * wait off. Default 5000 ms.
   */
  readonly horizonWaitMs?: number;
  /**
   * What live subscriptions do while the database cannot be reached: by default they wait out an
   * outage of any length (retrying at most 250 ms apart); `maxUnavailableMs` ends them with
   * `StoreUnavailable` instead, and `onHealth` reports when they become unavailable and live again.
   */
  readonly subscriptions?: SubscriptionOutageOptions;
  /**
   * Projections applied inline: in the transaction of every append (yours when you pass
   * `transaction`, otherwise one the store opens and runs again when a newer transaction wrote the
   * stream first). When `append` resolves the read model holds the events; when a handler throws, the
   * append fails and nothing is stored. Costs one more round trip per append (the appended events are
   * read back inside the transaction); an idempotent re-append is not applied again. Do not also run
   * these projections in a runner: they would apply each event twice. Default: none.
   */
  readonly inlineProjections?: readonly Projection<PostgresProjectionContext>[];
  /**
   * Group commit (server only): autocommit appends issued together in this process, to different
   * streams, are sent as one statement and committed in one transaction; each caller still gets its
   * own result or its own error, and a failing append never fails the others. Appends inside a
   * transaction, with an append condition or with inline projections, imports with `recordedAt`
   * and PGlite are never grouped. `false`: one statement and one transaction per append. Default true.
   */
  readonly groupCommit?: boolean;
  /** Where the store logs (pino's shape; a failing `subscribe` callback without `onError`). Default `consoleLogger`. */
  readonly logger?: Logger;
}

/** {@link AppendOptions} plus the PostgreSQL-only ones. */
export interface PostgresAppendOptions extends AppendOptions {
  /**
   * Append inside this Kysely transaction (from `store.transaction(...)` or your own): the events
   * commit or roll back with it, and become visible to readers of the global log when it commits.
   * Costs one more round trip (the idempotency check runs first, since a failed statement aborts
   * the transaction).
   */
  readonly transaction?: Transaction<any>;
}

/** {@link ReadStreamOptions} plus the PostgreSQL-only ones. */
export interface PostgresReadStreamOptions extends ReadStreamOptions {
  /** Read inside this Kysely transaction (sees its own uncommitted appends). */
  readonly transaction?: Transaction<any>;
}

/** {@link ReadAllOptions} plus the PostgreSQL-only ones. */
export interface PostgresReadAllOptions extends ReadAllOptions {
  /**
   * Read inside this Kysely transaction (a decision model built inside a command's transaction does):
   * the read shares its connection and snapshot, still only below the horizon, so it never sees the
   * transaction's own appends, and never waits for them.
   */
  readonly transaction?: Transaction<any>;
}

/** The checked options of a store. */
export interface Settings {
  readonly registry: EventRegistry;
  /** The key store of `personalData: { keys: 'postgres' }`, bound to the connection once it is open. */
  readonly ownKeys: PostgresKeyStore | undefined;
  readonly schema: string;
  readonly maxEventBytes: number;
  readonly pageSize: number;
  readonly pageBytes: number;
  readonly pollMinMs: number;
  readonly pollMaxMs: number;
  readonly notify: boolean;
  readonly notifyDelayMs: number;
  readonly horizonWaitMs: number;
  readonly outage: SubscriptionOutageOptions;
  readonly inlineProjections: readonly Projection<PostgresProjectionContext>[];
  readonly groupCommit: boolean;
}

/** Checks the options of {@link PostgresEventStore.create} and fills in the defaults. */
export function toSettings(options: PostgresEventStoreOptions): Settings {
  const schema = options.schema ?? DEFAULT_SCHEMA;
  assertSchemaName(schema);
  const positive = (name: string, value: number | undefined, fallback: number) => {
    if (value === undefined) return fallback;
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new InvalidArgument(`${name} must be a positive integer, found ${String(value)}.`);
    }
    return value;
  };
  const nonNegative = (name: string, value: number | undefined, fallback: number) =>
    value === 0 ? 0 : positive(name, value, fallback);
  const pollMinMs = positive('polling.minMs', options.polling?.minMs, 25);
  const pollMaxMs = positive('polling.maxMs', options.polling?.maxMs, Math.max(1000, pollMinMs));
  if (pollMaxMs < pollMinMs) {
    throw new InvalidArgument(
      `polling.maxMs must be at least polling.minMs (${pollMinMs}), found ${pollMaxMs}.`,
    );
  }
  if (options.groupCommit !== undefined && typeof options.groupCommit !== 'boolean') {
    throw new InvalidArgument(`groupCommit must be true or false, found ${String(options.groupCommit)}.`);
  }
  // Definitions with personal fields and no personalData: the keys live in this database.
  const keys = withDefaultKeys(options, () => 'postgres').personalData?.keys;
  const ownKeys = keys === 'postgres' ? new PostgresKeyStore() : undefined;
  const personalData = ownKeys === undefined ? options.personalData : { keys: ownKeys };
  return {
    registry: EventRegistry.from({ ...options, personalData } as EventRegistryOptions),
    ownKeys,
    schema,
    maxEventBytes: positive('maxEventBytes', options.maxEventBytes, DEFAULT_MAX_EVENT_BYTES),
    pageSize: positive('pageSize', options.pageSize, DEFAULT_PAGE_SIZE),
    pageBytes: positive('pageBytes', options.pageBytes, 16 * 1024 * 1024),
    pollMinMs,
    pollMaxMs,
    notify: options.notify ?? true,
    notifyDelayMs: nonNegative('notifyDelayMs', options.notifyDelayMs, 5),
    horizonWaitMs: nonNegative('horizonWaitMs', options.horizonWaitMs, 5000),
    outage: toOutageSettings(options.subscriptions),
    inlineProjections: assertInlineProjections(options.inlineProjections),
    groupCommit: options.groupCommit ?? true,
  };
}
