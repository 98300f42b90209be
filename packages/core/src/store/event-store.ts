import type {
  AppendCondition,
  AppendToStreamsOptions,
  AppendToStreamsResult,
  StreamWrite,
} from '../dcb/append-condition.js';
import type { EventQuery } from '../dcb/event-query.js';
import type { ExpectedRevisionValue } from '../errors/store-errors.js';
import type { NewEvent, RecordedEvent } from '../events/event-types.js';
import type { EventLogStats } from '../projection/event-log-stats.js';
import type { Subscription } from './subscription.js';

/**
 * What an append expects of its stream:
 * - a revision (`3n`, or `3`): the stream's last event is at exactly that revision;
 * - `'no_stream'`: the stream does not exist yet;
 * - `'stream_exists'`: the stream has at least one event;
 * - `'any'`: no check (the default).
 */
export type ExpectedRevision = ExpectedRevisionValue | number;

/** Options of {@link EventStore.append}. */
export interface AppendOptions {
  /** Optimistic concurrency check, enforced atomically with the write. Default `'any'`. */
  readonly expectedRevision?: ExpectedRevision;
  /**
   * Allow events whose `schemaVersion` is older than their definition's current version. For imports
   * and for building old histories in tests; each such event must upcast to a valid current event.
   */
  readonly import?: boolean;
  /**
   * With `import: true` only: when each event was first recorded (one `Date` per event, in batch
   * order), kept as its `recordedAt` instead of the time of this append, so a copied log keeps its
   * timestamps. Each must lie between 1970-01-01 and one minute from now (clock skew); see
   * `importedRecordedAt` in `@annals/core/adapter`.
   */
  readonly recordedAt?: readonly Date[];
  /**
   * Append only if no event matching `condition.failIfEventsMatch` lies after `condition.after`;
   * else `AppendConditionFailed` and nothing is written. Checked atomically with the write and with
   * `expectedRevision`. Only on stores whose `capabilities.appendConditions` is true (others refuse it).
   */
  readonly condition?: AppendCondition;
}

/** The outcome of an append. Re-appending the same event ids returns the same result. */
export interface AppendResult {
  /** The revision of the stream's last event after the append: pass it as the next `expectedRevision`. */
  readonly nextExpectedRevision: bigint;
  /** Global position of the first event of the batch. */
  readonly firstPosition: bigint;
  /** Global position of the last event of the batch. */
  readonly lastPosition: bigint;
}

/** Options of {@link EventStore.readStream}. */
export interface ReadStreamOptions {
  /** First revision to read (inclusive). Default: the start, or the end when reading backwards. */
  readonly fromRevision?: bigint | number;
  /** Default `'forwards'`. */
  readonly direction?: 'forwards' | 'backwards';
  /** At most this many events. */
  readonly maxCount?: number;
}

/** Selects events of the global log. An event matches when it matches every given criterion. */
export interface EventFilter {
  /** Event types (after upcasting) to keep. */
  readonly types?: readonly string[];
  /** Keep events whose stream id starts with this prefix. */
  readonly streamPrefix?: string;
  /** Keep events matching this query (type after upcasting and tags; see {@link EventQuery}). */
  readonly query?: EventQuery;
}

/** Options of {@link EventStore.readAll}. */
export interface ReadAllOptions {
  /** First global position to read (inclusive). Default: the start of the log. */
  readonly fromPosition?: bigint | number;
  /** At most this many events (after filtering). */
  readonly maxCount?: number;
  readonly filter?: EventFilter;
}

/** Options of {@link EventStore.subscribeToStream}. */
export interface SubscribeToStreamOptions {
  /** First revision to deliver (inclusive). Default 0: the whole stream, then live. */
  readonly fromRevision?: bigint | number;
}

/** Options of {@link EventStore.subscribeToAll}. */
export interface SubscribeToAllOptions {
  /** First global position to deliver (inclusive). Default: the start of the log, then live. */
  readonly fromPosition?: bigint | number;
  readonly filter?: EventFilter;
}

/** Options of {@link EventStore.close}. */
export interface CloseOptions {
  /**
   * How long `close()` lets existing subscriptions hand out what was appended before it was called,
   * in milliseconds; then it stops them. 0 stops them at once. Default 5000.
   */
  readonly drainTimeoutMs?: number;
}

/**
 * Optional behaviour of a store, read by the conformance suite and by runners. Flags only add: a store
 * that leaves one out gets the default from {@link defaultCapabilities}.
 */
export interface EventStoreCapabilities {
  /** Several processes may write and read the same store at once (a shared database). */
  readonly multiProcess: boolean;
  /** Appends from concurrent writers may commit in another order than they started. */
  readonly concurrentCommits: boolean;
  /** Largest accepted event (data + metadata, serialized) in bytes, when the store enforces one. */
  readonly maxEventBytes?: number;
  /** Tags, queries and append conditions (`condition`, `appendToStreams`) are supported. */
  readonly appendConditions?: boolean;
}

/** The capabilities assumed for a store that declares none. */
export const defaultCapabilities: EventStoreCapabilities = Object.freeze({
  multiProcess: false,
  concurrentCommits: false,
});

/**
 * The port every event store adapter implements (extend `EventStoreBase` from `@annals/core/adapter`
 * to get `publish` and `subscribe` on top of it). All adapters prove the same guarantees through
 * `runEventStoreConformance` in `@annals/testing`:
 *
 * - a wrong expected revision raises `ConcurrencyConflict` and writes nothing; batches are all-or-nothing;
 * - re-appending stored event ids is idempotent;
 * - revisions are gapless per stream; a reader of the global log never sees a position lower than one
 *   it has already seen, and never skips a committed event, even while writers commit concurrently;
 * - a subscription delivers each event exactly once, in order, across the catch-up/live switch.
 *
 * @example
 * ```ts
 * const store: EventStore = new InMemoryEventStore();
 * for await (const e of store.subscribeToStream('my-stream')) console.log(e.id, e.type, e.data);
 * ```
 */
export interface EventStore {
  /** What this store supports beyond the contract. */
  readonly capabilities: EventStoreCapabilities;

  /** Appends a batch to one stream, all or nothing. */
  append(streamId: string, events: readonly NewEvent[], options?: AppendOptions): Promise<AppendResult>;

  /**
   * Appends to several streams at once, all or nothing, each with its own expected revision and
   * all under one optional append condition. Present when `capabilities.appendConditions` is true.
   */
  appendToStreams?(
    writes: readonly StreamWrite[],
    options?: AppendToStreamsOptions,
  ): Promise<AppendToStreamsResult>;

  /** Reads one stream. Iterating a stream that does not exist throws `StreamNotFound`. */
  readStream(streamId: string, options?: ReadStreamOptions): AsyncIterable<RecordedEvent>;

  /** Reads the global log in position order, returning only events no concurrent writer can still precede. */
  readAll(options?: ReadAllOptions): AsyncIterable<RecordedEvent>;

  /** Catch-up then live subscription to one stream. */
  subscribeToStream(streamId: string, options?: SubscribeToStreamOptions): Subscription;

  /** Catch-up then live subscription to the global log. */
  subscribeToAll(options?: SubscribeToAllOptions): Subscription;

  /**
   * Counts what a projection still has to apply (its lag, the target of `waitUntilCaughtUp`), for a
   * store that can do it better than reading the log: PostgreSQL counts every committed event with
   * one query, also those that readers of the global log do not see yet. A `ProjectionRunner` given
   * no `stats` uses it; without it, `readAllLogStats`.
   */
  logStats?(): EventLogStats;

  /**
   * Closes the store. From the call on, every other method throws `StoreClosed`. Subscriptions that
   * exist first hand out every event appended before the call (an append that resolved before it):
   * a `for await` loop gets each of them and then ends, a `subscribe` callback is called for each and
   * has returned from the last when `close()` resolves. Events appended after the call began (by
   * another process) may or may not be delivered. A consumer that stops asking for events holds
   * `close()` at most `drainTimeoutMs` (default 5000 ms); then every subscription is stopped and the
   * store's resources are released. Calling it again returns the same promise.
   */
  close(options?: CloseOptions): Promise<void>;
}
