import {
  AppendConditionFailed,
  type AppendResult,
  ConcurrencyConflict,
  EventTooLarge,
  type ExpectedRevisionValue,
  IdempotencyConflict,
  InvalidArgument,
  isConcurrencyConflict,
  type NewEvent,
} from '@annals/core';
import {
  assertStreamId,
  expectedRevisionHolds,
  importedRecordedAt,
  normalizeExpectedRevision,
  type PreparedEvent,
} from '@annals/core/adapter';
import type { Kysely, Transaction } from 'kysely';
import { type DcbArgs, dcbArgs, isConditionIsolationError } from '../dcb/dcb-args.js';
import { type TaggedAppendRow, taggedAppendStatement } from '../dcb/tagged-append-statement.js';
import { SchemaNotMigrated } from '../errors/postgres-errors.js';
import type { AnnalsTables } from '../schema/tables.js';
import { type BatchArrays, EVENTS_PER_TRANSACTION, toBatchArrays } from './append-function.js';
import { constraintOf, sqlState } from './database-errors.js';
import { GroupCommit } from './group-commit.js';
import type { PostgresAppendOptions } from './options.js';
import type { StoreContext } from './store-context.js';
import { currentRevision, storedMatch } from './stored-batch.js';
import { toUnavailable } from './unavailable.js';

/** How often an append is re-run when a concurrent writer moved the stream between check and re-read. */
const MAX_APPEND_ATTEMPTS = 5;
/**
 * How often an autocommit append whose revision holds is run again because a writer with a newer
 * transaction id took the stream first (each attempt gets a newer id, so a repeat needs a new race).
 */
export const MAX_REORDER_ATTEMPTS = 20;
/** Why an append whose expected revision holds still failed: the stream's order in the global log. */
const REORDER_REASON =
  "The stream's last event was written by a transaction that started after this one, and a stream's events must follow each other in the global log: retry the transaction (retryOnConcurrency does).";

/**
 * Appends a batch to one stream: checks it, then runs the `annals_append` statement (see
 * {@link appendStatement}) in autocommit, re-running it within two separate budgets (a lost or
 * unusable statement; a newer transaction that took the stream first), or once inside
 * `options.transaction`. Re-appending a stored batch returns its original result.
 */
export async function appendToStream(
  ctx: StoreContext,
  streamId: string,
  events: readonly NewEvent[],
  options: PostgresAppendOptions,
): Promise<AppendResult> {
  ctx.assertOpen();
  assertStreamId(streamId);
  const expected = normalizeExpectedRevision(streamId, options.expectedRevision);
  if (Array.isArray(events) && events.length > EVENTS_PER_TRANSACTION) {
    throw new InvalidArgument(
      `append to stream ${streamId} accepts at most ${EVENTS_PER_TRANSACTION} events per transaction, found a batch of ${events.length}.`,
    );
  }
  const checked = ctx.settings.registry.prepare(streamId, events, { import: options.import === true });
  const batch = await ctx.settings.registry.personalData.seal(streamId, checked, options);
  if (batch.length === 0) {
    throw new InvalidArgument(`append to stream ${streamId} needs at least one event, found an empty batch.`);
  }
  for (const event of batch) checkEvent(streamId, event, ctx.settings.maxEventBytes);
  const recordedAt = importedRecordedAt(streamId, options, batch.length);
  const arrays = toBatchArrays(batch);
  const dcb = dcbArgs(ctx.settings.registry, batch, options.condition);
  if (options.transaction !== undefined) {
    return appendInTransaction(ctx, options.transaction, streamId, expected, arrays, recordedAt, dcb).catch(
      (error) => {
        throw toUnavailable(`an append to stream ${streamId}`, error);
      },
    );
  }

  await ctx.ensureVerified(ctx.db);
  // One budget per cause: a run of reorders must not use up the re-runs after a lost statement.
  let reruns = 0;
  let reorders = 0;
  for (;;) {
    let row: TaggedAppendRow | undefined;
    try {
      // Autocommit: the notification follows the commit (see PostCommitNotifier).
      row = await autocommitStatement(ctx, streamId, expected, arrays, recordedAt, dcb);
    } catch (error) {
      const repeated = await afterFailedAppend(ctx, error, ctx.db, streamId, arrays);
      if (repeated !== undefined) return repeated;
      if (++reruns < MAX_APPEND_ATTEMPTS) continue;
      throw await translateAppendError(ctx, error, streamId);
    }
    if (row?.conflict != null) {
      // A retry of a conditional append that committed finds its own events: not a conflict.
      const repeated = (await storedMatch(ctx.db, ctx.schema, streamId, arrays)).result;
      if (repeated !== undefined) return repeated;
      throw conditionFailed(dcb, row.conflict);
    }
    if (row !== undefined) {
      const result = toResult(row);
      ctx.afterCommit(result.lastPosition);
      return result;
    }
    // The expected revision did not hold. A retry of a stored batch is not a conflict.
    const { result: repeated, actual } = await storedMatch(ctx.db, ctx.schema, streamId, arrays);
    if (repeated !== undefined) return repeated;
    // The revision holds, so the stream moved meanwhile or a writer with a newer transaction id
    // took it first: run again in a new transaction, whose id is newer than theirs.
    if (expectedRevisionHolds(expected, actual)) {
      if (++reorders < MAX_REORDER_ATTEMPTS) continue;
      throw new ConcurrencyConflict(streamId, expected, actual, REORDER_REASON);
    }
    throw new ConcurrencyConflict(streamId, expected, actual);
  }
}

/** One batch inside `tx` (a store transaction or the caller's): checked for a stored copy first. */
export async function appendInTransaction(
  ctx: StoreContext,
  tx: Transaction<any>,
  streamId: string,
  expected: ExpectedRevisionValue,
  arrays: BatchArrays,
  recordedAt: readonly Date[] | undefined,
  dcb: DcbArgs,
): Promise<AppendResult> {
  const db = ctx.dbOf(tx);
  await ctx.ensureVerified(db);
  // A failing statement would abort the caller's transaction: check for a stored batch first.
  const repeated = (await storedMatch(db, ctx.schema, streamId, arrays)).result;
  if (repeated !== undefined) return repeated;
  let row: TaggedAppendRow | undefined;
  try {
    // A transaction the store opened notifies after its commit (see transaction()); in one the caller
    // opened, the statement notifies and PostgreSQL delivers it at that commit.
    const channel = ctx.ownTransactions.has(tx) ? undefined : ctx.channel;
    row = (await statement(ctx, streamId, expected, arrays, channel, recordedAt, dcb).execute(db)).rows[0];
  } catch (error) {
    throw await translateAppendError(ctx, error, streamId, db);
  }
  if (row?.conflict != null) throw conditionFailed(dcb, row.conflict);
  if (row !== undefined) {
    // Uncommitted events are invisible: wake nobody before the commit.
    const result = toResult(row);
    const before = ctx.appendedInTransaction.get(tx);
    if (before === undefined || before < result.lastPosition) {
      ctx.appendedInTransaction.set(tx, result.lastPosition);
    }
    return result;
  }
  const actual = await currentRevision(db, streamId);
  const reason = expectedRevisionHolds(expected, actual) ? REORDER_REASON : undefined;
  throw new ConcurrencyConflict(streamId, expected, actual, reason);
}

/**
 * One autocommit run of the append: through the store's group commit when it may share a group (no
 * condition, no import, no exclusive lock), else its own statement. Either way its own row.
 */
async function autocommitStatement(
  ctx: StoreContext,
  streamId: string,
  expected: ExpectedRevisionValue,
  arrays: BatchArrays,
  recordedAt: readonly Date[] | undefined,
  dcb: DcbArgs,
): Promise<TaggedAppendRow | undefined> {
  const member = { streamId, expected, arrays, tags: dcb.tags, locks: dcb.locks };
  if (
    ctx.groups !== undefined &&
    recordedAt === undefined &&
    dcb.condition === undefined &&
    GroupCommit.accepts(member)
  ) {
    return ctx.groups.append(member);
  }
  return (await statement(ctx, streamId, expected, arrays, undefined, recordedAt, dcb).execute(ctx.db))
    .rows[0];
}

/** The append statement (`annals_append_tagged`): tags, locks, condition, and `recordedAt` of an import. */
function statement(
  ctx: StoreContext,
  streamId: string,
  expected: ExpectedRevisionValue,
  arrays: BatchArrays,
  channel: string | undefined,
  recordedAt: readonly Date[] | undefined,
  dcb: DcbArgs,
) {
  return taggedAppendStatement({
    schema: ctx.schema,
    streamId,
    expected,
    arrays,
    channel,
    recordedAt,
    ...dcb,
  });
}

function toResult(row: TaggedAppendRow): AppendResult {
  return {
    nextExpectedRevision: BigInt(row.revision!),
    firstPosition: BigInt(row.first_position!),
    lastPosition: BigInt(row.last_position!),
  };
}

function conditionFailed(dcb: DcbArgs, conflict: string): AppendConditionFailed {
  const { query, after } = dcb.checked!;
  return new AppendConditionFailed(query, after, BigInt(conflict));
}

/**
 * After the append statement failed: returns the original result when the batch is already stored
 * (a retry), undefined when the append should be tried again, or throws the translated error.
 */
async function afterFailedAppend(
  ctx: StoreContext,
  error: unknown,
  db: Kysely<AnnalsTables>,
  streamId: string,
  arrays: BatchArrays,
): Promise<AppendResult | undefined> {
  const constraint = sqlState(error) === '23505' ? constraintOf(error) : undefined;
  if (constraint === 'events_id_key') {
    const repeated = (await storedMatch(db, ctx.schema, streamId, arrays)).result;
    if (repeated !== undefined) return repeated;
    return undefined; // the other batch is gone? impossible (append-only), but retrying is safe
  }
  if (constraint === 'events_stream_revision_key') return undefined; // backstop hit: re-run
  // A prepared append that can no longer be used (see prepareMarkedStatements): re-run, prepared anew.
  const state = sqlState(error);
  if (state === '26000' || state === '0A000') return undefined;
  throw await translateAppendError(ctx, error, streamId, db);
}

/** The typed error for a failed append statement (`db`: where to re-run the start-up check). */
async function translateAppendError(
  ctx: StoreContext,
  error: unknown,
  streamId: string,
  db?: Kysely<AnnalsTables>,
): Promise<unknown> {
  const state = sqlState(error);
  const constraint = constraintOf(error);
  if (state === '42P01') return new SchemaNotMigrated(ctx.schema, 'no Annals tables', { cause: error });
  if (isConditionIsolationError(error)) {
    return new InvalidArgument(
      `append to stream ${streamId} with a condition needs a READ COMMITTED transaction (the condition reads what concurrent writers committed); ${String((error as Error).message)}.`,
      { cause: error },
    );
  }
  if (state === '23514' && constraint === 'events_position_in_transaction') {
    return new InvalidArgument(
      `append to stream ${streamId} would take its transaction past ${EVENTS_PER_TRANSACTION} events; split the work into several transactions.`,
      { cause: error },
    );
  }
  if (state === '23505' && constraint === 'events_pkey') {
    // Two transactions got the same position range: the cluster's xids went back (a restore).
    ctx.forgetVerification();
    if (db !== undefined) await ctx.ensureVerified(db); // throws TransactionIdsRewound
    return error;
  }
  if (state === '23505' && constraint === 'events_id_key') {
    const id = /\(id\)=\(([0-9a-f-]{36})\)/i.exec(String((error as { detail?: unknown }).detail))?.[1];
    return new IdempotencyConflict(
      id ?? '(unknown)',
      `by a concurrent append; the append to stream ${streamId} failed and its transaction is aborted`,
    );
  }
  return toUnavailable(`an append to stream ${streamId}`, error);
}

/** Size limit and what PostgreSQL cannot store, checked before anything is sent. */
export function checkEvent(streamId: string, event: PreparedEvent, maxEventBytes: number): void {
  const { dataJson, metadataJson } = event;
  // UTF-8 takes at most 3 bytes per UTF-16 unit: skip counting when even that fits.
  if ((dataJson.length + metadataJson.length) * 3 > maxEventBytes) {
    const size = Buffer.byteLength(dataJson, 'utf8') + Buffer.byteLength(metadataJson, 'utf8');
    if (size > maxEventBytes) throw new EventTooLarge(event.type, streamId, size, maxEventBytes);
  }
}

/**
 * True when `error` is the `ConcurrencyConflict` of an append inside a transaction whose expected
 * revision held: a newer transaction wrote the stream first, and a stream's events must follow each
 * other in the global log. Running the whole transaction again succeeds (it gets a newer id).
 *
 * @example
 * ```ts
 * for (;;) {
 *   try {
 *     return await store.transaction((tx) => work(tx));
 *   } catch (error) {
 *     if (!isStreamOrderConflict(error)) throw error;
 *   }
 * }
 * ```
 */
export function isStreamOrderConflict(error: unknown): boolean {
  return isConcurrencyConflict(error) && expectedRevisionHolds(error.expected, error.actual);
}
