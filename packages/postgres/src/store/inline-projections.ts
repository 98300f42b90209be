import {
  type AppendResult,
  InvalidArgument,
  type NewEvent,
  type Projection,
  ProjectionDefinitionInvalid,
  type RecordedEvent,
} from '@annals/core';
import { sql, type Transaction } from 'kysely';
import type { PostgresProjectionContext } from '../projection/postgres-projection-runner.js';
import { appendToStream, isStreamOrderConflict, MAX_REORDER_ATTEMPTS } from './append.js';
import { fetchEventPage } from './event-pages.js';
import { decodeOwned, selectStreamEvents } from './event-rows.js';
import type { PostgresAppendOptions } from './options.js';
import type { StoreContext } from './store-context.js';
import { runTransactionOf } from './transaction.js';
import { orUnavailable } from './unavailable.js';

/**
 * Checks the `inlineProjections` option: an array (default empty) of distinct, unsharded projections.
 * Throws `InvalidArgument` or `ProjectionDefinitionInvalid`.
 */
export function assertInlineProjections(
  projections: readonly Projection<PostgresProjectionContext>[] | undefined,
): readonly Projection<PostgresProjectionContext>[] {
  if (projections === undefined) return [];
  if (!Array.isArray(projections)) {
    throw new InvalidArgument(
      `inlineProjections must be an array of projections, found ${typeof projections}.`,
    );
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
  return Object.freeze([...projections]);
}

/**
 * Appends and applies the store's inline projections in one transaction: the caller's when
 * `options.transaction` is given, otherwise a new one (run again when a newer transaction wrote the
 * stream first, see {@link isStreamOrderConflict}). A throwing handler fails the append. A connection
 * that dies on the way is `StoreUnavailable` (the driver's first error its `cause`).
 */
export async function appendWithInlineProjections(
  ctx: StoreContext,
  streamId: string,
  events: readonly NewEvent[],
  options: PostgresAppendOptions,
): Promise<AppendResult> {
  if (options.transaction !== undefined) {
    // In the caller's transaction: a connection that died under a handler is StoreUnavailable too.
    const tx = options.transaction;
    return orUnavailable(`an append to stream ${streamId}`, () =>
      appendIn(ctx, tx, streamId, events, options),
    );
  }
  for (let attempt = 1; ; attempt++) {
    try {
      return await runTransactionOf(ctx, (tx) => appendIn(ctx, tx, streamId, events, options));
    } catch (error) {
      // A newer transaction wrote the stream first: this transaction is ours, so run it again.
      if (attempt < MAX_REORDER_ATTEMPTS && isStreamOrderConflict(error)) continue;
      throw error;
    }
  }
}

async function appendIn(
  ctx: StoreContext,
  tx: Transaction<any>,
  streamId: string,
  events: readonly NewEvent[],
  options: PostgresAppendOptions,
): Promise<AppendResult> {
  const result = await appendToStream(ctx, streamId, events, { ...options, transaction: tx });
  const written = await writtenByThisTransaction(ctx, tx, streamId, result, events.length);
  const context: PostgresProjectionContext = { tx };
  // Each projection gets the appended events in order (per-event handlers one at a time).
  for (const projection of ctx.settings.inlineProjections) await projection.handleBatch(written, context);
  return result;
}

/** The appended events, if this transaction wrote them (an idempotent repeat wrote nothing). */
async function writtenByThisTransaction(
  ctx: StoreContext,
  tx: Transaction<any>,
  streamId: string,
  result: AppendResult,
  count: number,
): Promise<RecordedEvent[]> {
  const from = result.nextExpectedRevision - BigInt(count - 1);
  const { events } = await fetchEventPage(
    selectStreamEvents(ctx.dbOf(tx))
      .where('stream_id', '=', streamId)
      .where('revision', '>=', from.toString())
      .where('revision', '<=', result.nextExpectedRevision.toString())
      .where(sql<boolean>`(position >> 20) = pg_current_xact_id_if_assigned()::text::bigint`)
      .orderBy('revision'),
    undefined,
    streamId,
  );
  const opened = await ctx.settings.registry.personalData.open(events, { transaction: tx });
  return opened.map((row) => decodeOwned(ctx.settings.registry, row));
}
