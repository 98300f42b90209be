import type { RecordedEvent } from '../../events/event-types.js';
import { shardOf } from '../shard.js';
import { describeError } from './failure-record.js';
import type { WorkerSettings } from './worker-settings.js';

/**
 * A handler threw on `events[index]` of the batch being committed; index -1: a batch handler threw,
 * on an event not known yet.
 */
export class HandlerFailure {
  constructor(
    readonly index: number,
    readonly cause: unknown,
  ) {}
}

/**
 * A commit moved the checkpoint to `last.position`: `handled` events were given to the handlers (of
 * this shard), `seen` events of the log were covered.
 */
export type CommittedListener = (last: RecordedEvent, handled: number, seen: number) => void;

/**
 * Applies events and moves the checkpoint past them by compare-and-swap on the checkpoint it read:
 * in the runner's transaction when it has one (handlers, checkpoint and dead letter commit together),
 * else the checkpoint after every event (or after the batch handler's call).
 */
export class BatchCommitter<TContext, TTransaction> {
  readonly #s: WorkerSettings<TContext, TTransaction>;
  readonly #onCommitted: CommittedListener;
  /** The checkpoint as stored (undefined: no row yet): the `expected` of the next compare-and-swap. */
  #expected: bigint | undefined;
  #deadLettered = 0;

  constructor(settings: WorkerSettings<TContext, TTransaction>, onCommitted: CommittedListener) {
    this.#s = settings;
    this.#onCommitted = onCommitted;
  }

  /** Events this committer recorded as dead letters and skipped. */
  get deadLettered(): number {
    return this.#deadLettered;
  }

  /** Reads the stored checkpoint, from which the next commits compare-and-swap. */
  async begin(): Promise<bigint | undefined> {
    this.#expected = await this.#s.checkpoints.load(this.#s.key);
    return this.#expected;
  }

  /**
   * The events of `events` after the stored checkpoint, once a commit whose outcome was unknown is
   * settled: when the checkpoint is at one of them, that commit went through (it is recorded as
   * committed here). A checkpoint anywhere else is left to the next commit's compare-and-swap, which
   * throws if another runner moved it.
   */
  skipCommitted(events: readonly RecordedEvent[], stored: bigint | undefined): readonly RecordedEvent[] {
    if (stored === undefined || stored === this.#expected) return events;
    const index = events.findIndex((e) => e.position === stored);
    if (index < 0) return events;
    this.#committed(events[index]!, index + 1, index + 1);
    return events.slice(index + 1);
  }

  /**
   * Applies `events` and moves the checkpoint past them: in one transaction, or without one event by
   * event (`single`) or after the batch handler's call. A handler's error is thrown as a
   * {@link HandlerFailure}.
   */
  async commit(events: readonly RecordedEvent[], single: boolean): Promise<void> {
    const { transaction, context, checkpoints, key, owner } = this.#s;
    const last = events[events.length - 1]!;
    if (transaction === undefined) {
      const ctx = context(undefined);
      if (!single) {
        const handled = await this.#handleAll(events, ctx);
        await checkpoints.save(key, last.position, { expected: this.#expected, owner });
        this.#committed(last, handled, events.length);
        return;
      }
      for (let index = 0; index < events.length; index++) {
        const event = events[index]!;
        const handled = await this.#handle(event, index, ctx);
        await checkpoints.save(key, event.position, { expected: this.#expected, owner });
        this.#committed(event, handled, 1);
      }
      return;
    }
    let handled = 0;
    await transaction(async (tx) => {
      const ctx = context(tx);
      if (single) {
        handled = 0;
        for (let index = 0; index < events.length; index++) {
          handled += await this.#handle(events[index]!, index, ctx);
        }
      } else {
        handled = await this.#handleAll(events, ctx);
      }
      await checkpoints.save(key, last.position, { expected: this.#expected, owner, transaction: tx });
    });
    this.#committed(last, handled, events.length);
  }

  /** Records `event` as a dead letter and moves the checkpoint past it, together. */
  async commitDeadLetter(event: RecordedEvent, cause: unknown, attempts: number): Promise<void> {
    const { transaction, deadLetters, checkpoints, key, owner, projection } = this.#s;
    const letter = {
      projection: projection.name,
      key,
      eventId: event.id,
      eventType: event.type,
      streamId: event.streamId,
      position: event.position,
      error: describeError(cause),
      ...(cause instanceof Error && cause.stack !== undefined ? { stack: cause.stack } : {}),
      attempts,
      recordedAt: new Date(),
    };
    if (transaction === undefined) {
      await deadLetters.record(letter);
      await checkpoints.save(key, event.position, { expected: this.#expected, owner });
    } else {
      await transaction(async (tx) => {
        await deadLetters.record(letter, { transaction: tx });
        await checkpoints.save(key, event.position, { expected: this.#expected, owner, transaction: tx });
      });
    }
    this.#deadLettered++;
    this.#committed(event, 1, 1);
  }

  /** Calls the handler unless the event belongs to another shard. Returns 1 when it was applied. */
  async #handle(event: RecordedEvent, index: number, ctx: TContext): Promise<number> {
    const shard = this.#s.shard;
    if (shard !== undefined && shardOf(event.streamId, shard.count) !== shard.index) return 0;
    try {
      await this.#s.projection.handle(event, ctx);
    } catch (cause) {
      throw new HandlerFailure(index, cause);
    }
    return 1;
  }

  /** Calls the batch handler once with the events of this shard. Returns how many it was given. */
  async #handleAll(events: readonly RecordedEvent[], ctx: TContext): Promise<number> {
    const shard = this.#s.shard;
    const mine =
      shard === undefined ? events : events.filter((e) => shardOf(e.streamId, shard.count) === shard.index);
    if (mine.length === 0) return 0;
    try {
      await this.#s.projection.handleBatch(mine, ctx);
    } catch (cause) {
      throw new HandlerFailure(-1, cause);
    }
    return mine.length;
  }

  #committed(last: RecordedEvent, handled: number, seen: number): void {
    this.#expected = last.position;
    this.#onCommitted(last, handled, seen);
  }
}
