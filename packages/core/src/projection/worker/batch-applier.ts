import type { RecordedEvent } from '../../events/event-types.js';
import { backoffDelay } from '../../retry/backoff.js';
import {
  failedEventInfo,
  isCheckpointConflict,
  isLeaseLost,
  ProjectionFailed,
} from '../projection-errors.js';
import { type BatchCommitter, HandlerFailure } from './batch-committer.js';
import type { FailureRecord } from './failure-record.js';
import type { LeaseHolder } from './lease-holder.js';
import type { WorkerSettings } from './worker-settings.js';

/** What the applier needs of its worker. */
export interface ApplyHost {
  /** True when a stop, a lost lease or a new shard assignment interrupts the retries. */
  interrupted(): boolean;
  /** Waits `ms`, waking early on a stop or a change. */
  sleep(ms: number): Promise<void>;
  /** An event was recorded as a dead letter (the metric). */
  deadLettered(): void;
}

/** Where the application of one batch stands between attempts. */
interface BatchRun {
  /** The events not committed yet. */
  remaining: readonly RecordedEvent[];
  /** One event at a time: always for per-event handlers; for a batch handler, to find a poison event. */
  single: boolean;
  /**
   * The store became unavailable outside the handlers (at BEGIN, the checkpoint, COMMIT): the commit
   * may have gone through, which the stored checkpoint tells before the batch is retried.
   */
  uncertain: boolean;
}

/** After a failed attempt: try again, the batch is done, or a stop interrupted the retries. */
type Next = 'retry' | 'done' | 'interrupted';

/**
 * Applies a batch under the projection's failure policy: a handler's error is retried with backoff,
 * then the projection fails or the event becomes a dead letter; a transient error (the store
 * unavailable) is retried without end and never counts as an attempt.
 *
 * A batch projection's batch is applied with one call of its batch handler. When that keeps failing
 * until the retries are spent, the batch is applied again one event at a time (each event with its
 * own call, all in one transaction), which finds the event it fails on: the events before it
 * commit, and the policy (stop or dead-letter) applies to that event, as for per-event handlers.
 */
export class BatchApplier<TContext, TTransaction> {
  readonly #s: WorkerSettings<TContext, TTransaction>;
  readonly #committer: BatchCommitter<TContext, TTransaction>;
  readonly #lease: LeaseHolder;
  readonly #failures: FailureRecord;
  readonly #host: ApplyHost;

  constructor(
    settings: WorkerSettings<TContext, TTransaction>,
    committer: BatchCommitter<TContext, TTransaction>,
    lease: LeaseHolder,
    failures: FailureRecord,
    host: ApplyHost,
  ) {
    this.#s = settings;
    this.#committer = committer;
    this.#lease = lease;
    this.#failures = failures;
    this.#host = host;
  }

  /** Applies `batch`. False when a stop (or a lost lease, or a new assignment) interrupted the retries. */
  async apply(batch: readonly RecordedEvent[]): Promise<boolean> {
    const run: BatchRun = { remaining: batch, single: this.#s.projection.batched !== true, uncertain: false };
    while (run.remaining.length > 0) {
      const next = run.uncertain ? await this.#settle(run) : await this.#attempt(run);
      if (next === 'done') return true;
      if (next === 'interrupted') return false;
    }
    return true;
  }

  /** Commits the remaining events once; on failure, applies the policy that fits the error. */
  async #attempt(run: BatchRun): Promise<Next> {
    try {
      await this.#committer.commit(run.remaining, run.single);
      this.#failures.attempts = 0;
      this.#failures.transient = 0;
      return 'done';
    } catch (error) {
      // Another runner owns the key now, or moved its checkpoint: the worker stands by.
      if (isLeaseLost(error) || isCheckpointConflict(error)) throw error;
      if (!(error instanceof HandlerFailure)) return this.#storeFailed(run, error);
      if (error.index < 0) return this.#batchHandlerFailed(run, error.cause);
      return this.#eventHandlerFailed(run, error);
    }
  }

  /** Reading, committing or the checkpoint failed outside the handlers. */
  async #storeFailed(run: BatchRun, error: unknown): Promise<Next> {
    // The store is unavailable: retry this batch on the same subscription, no attempt counted.
    if (!this.#s.isTransient(error)) throw error;
    await this.#failures.transientFailure(error, undefined);
    if (this.#host.interrupted()) return 'interrupted';
    run.uncertain = true;
    return 'retry';
  }

  /** After an outage: whether the last commit went through, told by the stored checkpoint. */
  async #settle(run: BatchRun): Promise<Next> {
    let stored: bigint | undefined;
    try {
      // The lease may have expired during the outage: renew it now rather than at the next
      // heartbeat (only while it is still ours; when another runner took it, stand by).
      await this.#lease.renewNow();
      stored = await this.#s.checkpoints.load(this.#s.key);
    } catch (error) {
      if (isLeaseLost(error) || !this.#s.isTransient(error)) throw error;
      await this.#failures.transientFailure(error, undefined);
      return this.#afterWait();
    }
    run.uncertain = false;
    run.remaining = this.#committer.skipCommitted(run.remaining, stored);
    if (run.remaining.length > 0) return 'retry';
    this.#failures.transient = 0;
    return 'done';
  }

  /** The batch handler failed; nothing of the batch was kept (with a transaction). */
  async #batchHandlerFailed(run: BatchRun, cause: unknown): Promise<Next> {
    const { key, logger, projection } = this.#s;
    const failures = this.#failures;
    if (this.#s.isTransient(cause)) {
      await failures.transientFailure(cause, undefined);
      return this.#afterWait();
    }
    failures.attempts++;
    failures.record(cause, undefined, failures.attempts);
    const about = `Projection ${key} failed on a batch of ${run.remaining.length} events (attempt ${failures.attempts})`;
    if (failures.attempts > projection.failure.retries) {
      logger.warn({ err: cause }, `${about}; applying them one at a time to find the event.`);
      run.single = true;
      return 'retry';
    }
    logger.warn({ err: cause }, `${about}; retrying.`);
    await this.#host.sleep(backoffDelay(failures.attempts, projection.failure.backoff));
    return this.#afterWait();
  }

  /** A handler failed on one event: retries, then the projection fails or the event is a dead letter. */
  async #eventHandlerFailed(run: BatchRun, failure: HandlerFailure): Promise<Next> {
    const { key, logger, projection, transaction } = this.#s;
    const failures = this.#failures;
    if (failure.index > 0) {
      // Without a transaction the events before are checkpointed already; with one, commit them
      // now, so retries (and a failed state or dead letter) concern the failing event alone.
      // Should that fail, the run loop starts over from the stored checkpoint.
      if (transaction !== undefined) {
        try {
          await this.#committer.commit(run.remaining.slice(0, failure.index), true);
        } catch (prefixError) {
          throw prefixError instanceof HandlerFailure ? prefixError.cause : prefixError;
        }
      }
      run.remaining = run.remaining.slice(failure.index);
    }
    const event = run.remaining[0]!;
    const info = failedEventInfo(event);
    if (this.#s.isTransient(failure.cause)) {
      await failures.transientFailure(failure.cause, info);
      return this.#afterWait();
    }
    failures.attempts++;
    failures.record(failure.cause, info, failures.attempts);
    if (failures.attempts > projection.failure.retries) {
      if (projection.failure.onExhausted !== 'dead-letter') {
        throw new ProjectionFailed(key, info, failures.attempts, failure.cause);
      }
      await this.#committer.commitDeadLetter(event, failure.cause, failures.attempts);
      this.#host.deadLettered();
      logger.warn(
        { err: failure.cause },
        `Projection ${key} skipped event ${event.id} after ${failures.attempts} attempts; recorded as a dead letter.`,
      );
      failures.attempts = 0;
      run.remaining = run.remaining.slice(1);
      // The rest of the batch goes back to the batch handler.
      run.single = projection.batched !== true;
      return run.remaining.length > 0 ? 'retry' : 'done';
    }
    logger.warn(
      { err: failure.cause },
      `Projection ${key} failed on event ${event.id} (attempt ${failures.attempts}); retrying.`,
    );
    await this.#host.sleep(backoffDelay(failures.attempts, projection.failure.backoff));
    return this.#afterWait();
  }

  #afterWait(): Next {
    return this.#host.interrupted() ? 'interrupted' : 'retry';
  }
}
