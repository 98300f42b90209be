import type { AppendResult, AppendToStreamsOptions, AppendToStreamsResult, StreamWrite } from '@annals/core';
import { InvalidArgument } from '@annals/core';
import {
  assertStreamId,
  checkAppendCondition,
  checkStreamWrites,
  normalizeExpectedRevision,
  toStreamsResult,
} from '@annals/core/adapter';
import {
  appendInTransaction,
  appendToStream,
  checkEvent,
  isStreamOrderConflict,
  MAX_REORDER_ATTEMPTS,
} from '../store/append.js';
import { EVENTS_PER_TRANSACTION, toBatchArrays } from '../store/append-function.js';
import { appendWithInlineProjections } from '../store/inline-projections.js';
import type { StoreContext } from '../store/store-context.js';
import { runTransactionOf } from '../store/transaction.js';
import { dcbArgs } from './dcb-args.js';

/**
 * Appends to several streams in one transaction, all or nothing. One write is one append (one round
 * trip); more run in a store transaction whose first statement takes the advisory locks of every
 * event of the call and checks the condition, so the check covers the whole call. A transaction that
 * a newer writer's stream order refused runs again (as an autocommit append does).
 */
export async function appendToStreams(
  ctx: StoreContext,
  writes: readonly StreamWrite[],
  options: AppendToStreamsOptions,
): Promise<AppendToStreamsResult> {
  ctx.assertOpen();
  checkStreamWrites(writes);
  const condition = checkAppendCondition(options.condition);
  if (ctx.settings.inlineProjections.length > 0) return withInlineProjections(ctx, writes, options);
  if (writes.length === 1) {
    const [write] = writes;
    const result = await appendToStream(ctx, write!.streamId, write!.events, {
      expectedRevision: write!.expectedRevision ?? 'any',
      ...(options.condition === undefined ? {} : { condition: options.condition }),
    });
    return toStreamsResult(writes, [result]);
  }
  const { registry, maxEventBytes } = ctx.settings;
  let total = 0;
  const plans = await Promise.all(
    writes.map(async (write) => {
      assertStreamId(write.streamId);
      const expected = normalizeExpectedRevision(write.streamId, write.expectedRevision);
      // Personal fields sealed as a single-stream append seals them: nothing personal goes in clear.
      const checked = registry.prepare(write.streamId, write.events);
      const batch = await registry.personalData.seal(write.streamId, checked);
      if (batch.length === 0) {
        throw new InvalidArgument(
          `appendToStreams: the write to stream ${write.streamId} needs at least one event, found an empty batch.`,
        );
      }
      for (const event of batch) checkEvent(write.streamId, event, maxEventBytes);
      total += batch.length;
      return { streamId: write.streamId, expected, batch, arrays: toBatchArrays(batch) };
    }),
  );
  if (total > EVENTS_PER_TRANSACTION) {
    throw new InvalidArgument(
      `appendToStreams accepts at most ${EVENTS_PER_TRANSACTION} events per call, found ${total}.`,
    );
  }
  const everyEvent = plans.flatMap((plan) => plan.batch);
  for (let attempt = 1; ; attempt++) {
    try {
      const results = await runTransactionOf(ctx, async (tx) => {
        const done: AppendResult[] = [];
        for (const [i, plan] of plans.entries()) {
          // The first statement locks for the whole call and checks the condition.
          const dcb =
            i === 0
              ? dcbArgs(registry, plan.batch, condition, everyEvent)
              : dcbArgs(registry, plan.batch, undefined, []);
          done.push(
            await appendInTransaction(ctx, tx, plan.streamId, plan.expected, plan.arrays, undefined, dcb),
          );
        }
        return done;
      });
      return toStreamsResult(writes, results);
    } catch (error) {
      if (isStreamOrderConflict(error) && attempt < MAX_REORDER_ATTEMPTS) continue;
      throw error;
    }
  }
}

/**
 * With inline projections: every write through `appendWithInlineProjections`, in one store
 * transaction (the condition on the first), so the projections see every event of the call and
 * commit with it. Each write locks its own keys (see docs/dcb.md on appends in a transaction).
 */
async function withInlineProjections(
  ctx: StoreContext,
  writes: readonly StreamWrite[],
  options: AppendToStreamsOptions,
): Promise<AppendToStreamsResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      const results = await runTransactionOf(ctx, async (tx) => {
        const done: AppendResult[] = [];
        for (const [i, write] of writes.entries()) {
          const condition =
            i === 0 && options.condition !== undefined ? { condition: options.condition } : {};
          done.push(
            await appendWithInlineProjections(ctx, write.streamId, write.events, {
              expectedRevision: write.expectedRevision ?? 'any',
              transaction: tx,
              ...condition,
            }),
          );
        }
        return done;
      });
      return toStreamsResult(writes, results);
    } catch (error) {
      if (isStreamOrderConflict(error) && attempt < MAX_REORDER_ATTEMPTS) continue;
      throw error;
    }
  }
}
