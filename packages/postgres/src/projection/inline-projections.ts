import {
  type AppendResult,
  type CloseOptions,
  type EventStoreCapabilities,
  InvalidArgument,
  type NewEvent,
  type Projection,
  ProjectionDefinitionInvalid,
  type ReadAllOptions,
  type RecordedEvent,
  type SubscribeToAllOptions,
  type SubscribeToStreamOptions,
  type Subscription,
} from '@annals/core';
import { EventStoreBase } from '@annals/core/adapter';
import { sql, type Transaction } from 'kysely';
import { annalsDb } from '../schema/schema-scoped-kysely.js';
import { decodeStreamRow, type StreamEventRow, selectStreamEvents } from '../store/event-rows.js';
import {
  isStreamOrderConflict,
  MAX_REORDER_ATTEMPTS,
  type PostgresAppendOptions,
  type PostgresEventStore,
  type PostgresReadStreamOptions,
} from '../store/postgres-event-store.js';
import { orUnavailable } from '../store/unavailable.js';
import type { PostgresProjectionContext } from './postgres-projection-runner.js';

/**
 * A `PostgresEventStore` whose appends also apply inline projections, inside the append's
 * transaction: when `append` resolves, the read model already holds the events (read-your-writes),
 * and when an inline handler throws, the append fails and nothing is stored. Every other method is
 * the store's own.
 *
 * Costs one more round trip per append (the appended events are read back inside the transaction).
 * An idempotent re-append of stored events is not applied again. Do not also run these projections
 * in a `ProjectionRunner`: they would apply each event twice.
 *
 * @example
 * ```ts
 * const store = withInlineProjections(postgresStore, [AccountBalances]);
 * await store.append('account-1', [MoneyDeposited.create({ ... })]); // balances updated in the same transaction
 * ```
 */
export class PostgresInlineProjectionStore extends EventStoreBase {
  /** The store appends go to. */
  readonly inner: PostgresEventStore;
  readonly #projections: readonly Projection<PostgresProjectionContext>[];

  constructor(store: PostgresEventStore, projections: readonly Projection<PostgresProjectionContext>[]) {
    super();
    if (typeof store?.transaction !== 'function') {
      throw new InvalidArgument('withInlineProjections expects a PostgresEventStore, found none.');
    }
    if (!Array.isArray(projections) || projections.length === 0) {
      throw new InvalidArgument('withInlineProjections expects at least one projection.');
    }
    const names = new Set<string>();
    for (const projection of projections) {
      if (names.has(projection.name)) {
        throw new ProjectionDefinitionInvalid(projection.name, 'it was given twice as an inline projection.');
      }
      if (projection.shards !== 1) {
        throw new ProjectionDefinitionInvalid(projection.name, 'an inline projection cannot be sharded.');
      }
      names.add(projection.name);
    }
    this.inner = store;
    this.#projections = projections;
  }

  get capabilities(): EventStoreCapabilities {
    return this.inner.capabilities;
  }

  /**
   * Appends and applies the inline projections in one transaction: yours when you pass
   * `options.transaction`, otherwise a new one (run again when a newer transaction wrote the stream
   * first, see {@link isStreamOrderConflict}). A throwing handler fails the append. A connection that
   * dies on the way is `StoreUnavailable` (the driver's first error its `cause`): retry with the same
   * event ids.
   */
  async append(
    streamId: string,
    events: readonly NewEvent[],
    options: PostgresAppendOptions = {},
  ): Promise<AppendResult> {
    if (options.transaction !== undefined) {
      // In your transaction: a connection that died under a handler is StoreUnavailable too.
      const tx = options.transaction;
      return orUnavailable(`an append to stream ${streamId}`, () =>
        this.#appendIn(tx, streamId, events, options),
      );
    }
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.inner.transaction((tx) => this.#appendIn(tx, streamId, events, options));
      } catch (error) {
        // A newer transaction wrote the stream first: this transaction is ours, so run it again.
        if (attempt < MAX_REORDER_ATTEMPTS && isStreamOrderConflict(error)) continue;
        throw error;
      }
    }
  }

  async #appendIn(
    tx: Transaction<any>,
    streamId: string,
    events: readonly NewEvent[],
    options: PostgresAppendOptions,
  ): Promise<AppendResult> {
    const result = await this.inner.append(streamId, events, { ...options, transaction: tx });
    const written = await this.#writtenByThisTransaction(tx, streamId, result, events.length);
    const context: PostgresProjectionContext = { tx };
    // Each projection gets the appended events in order (per-event handlers one at a time).
    for (const projection of this.#projections) await projection.handleBatch(written, context);
    return result;
  }

  /** The appended events, if this transaction wrote them (an idempotent repeat wrote nothing). */
  async #writtenByThisTransaction(
    tx: Transaction<any>,
    streamId: string,
    result: AppendResult,
    count: number,
  ): Promise<RecordedEvent[]> {
    const db = annalsDb(tx, this.inner.schema);
    const from = result.nextExpectedRevision - BigInt(count - 1);
    const rows = (await selectStreamEvents(db)
      .where('stream_id', '=', streamId)
      .where('revision', '>=', from.toString())
      .where('revision', '<=', result.nextExpectedRevision.toString())
      .where(sql<boolean>`(position >> 20) = pg_current_xact_id_if_assigned()::text::bigint`)
      .orderBy('revision')
      .execute()) as StreamEventRow[];
    return rows.map((row) => decodeStreamRow(this.inner.registry, row, streamId));
  }

  readStream(streamId: string, options?: PostgresReadStreamOptions): AsyncIterable<RecordedEvent> {
    return this.inner.readStream(streamId, options);
  }

  readAll(options?: ReadAllOptions): AsyncIterable<RecordedEvent> {
    return this.inner.readAll(options);
  }

  subscribeToStream(streamId: string, options?: SubscribeToStreamOptions): Subscription {
    return this.inner.subscribeToStream(streamId, options);
  }

  subscribeToAll(options?: SubscribeToAllOptions): Subscription {
    return this.inner.subscribeToAll(options);
  }

  /** Runs `fn` in a transaction of the underlying store (pass `tx` to `append` to join it). */
  transaction<T>(fn: (tx: Transaction<any>) => Promise<T>): Promise<T> {
    return this.inner.transaction(fn);
  }

  /** Closes the underlying store (see {@link PostgresEventStore.close}). */
  close(options?: CloseOptions): Promise<void> {
    return this.inner.close(options);
  }
}

/**
 * Wraps a `PostgresEventStore` so that its appends apply `projections` inline, in the append's
 * transaction. See {@link PostgresInlineProjectionStore}.
 */
export function withInlineProjections(
  store: PostgresEventStore,
  projections: readonly Projection<PostgresProjectionContext>[],
): PostgresInlineProjectionStore {
  return new PostgresInlineProjectionStore(store, projections);
}
