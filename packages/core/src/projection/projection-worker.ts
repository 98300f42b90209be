import type { RecordedEvent } from '../events/event-types.js';
import { ChangeNotifier } from '../store/change-notifier.js';
import type { EventStore } from '../store/event-store.js';
import { backoffDelay } from './backoff.js';
import { BatchReader } from './batch-reader.js';
import type { CheckpointStore } from './checkpoint-store.js';
import type { DeadLetterStore } from './dead-letter-store.js';
import type { Projection } from './define-projection.js';
import type { EventLogStats } from './event-log-stats.js';
import type { LeaseStore } from './lease-store.js';
import { failedEventInfo, isLeaseLost, LeaseLost, ProjectionFailed } from './projection-errors.js';
import type { ProjectionErrorInfo, ProjectionState, ProjectionStatus } from './projection-status.js';
import { shardOf } from './shard.js';
import { transientDelay, worthLogging } from './transient-retry.js';

/**
 * Runs one batch as a unit of work: the handlers' effects, the checkpoint and any dead letter commit
 * or roll back together. Postgres: `(work) => db.transaction().execute(work)`.
 */
export type ProjectionTransaction<TTransaction> = <R>(
  work: (transaction: TTransaction) => Promise<R>,
) => Promise<R>;

/** Where the runner reports what it does. Default: `console.warn` / `console.error`. */
export interface ProjectionLogger {
  warn(message: string, details?: Readonly<Record<string, unknown>>): void;
  error(message: string, details?: Readonly<Record<string, unknown>>): void;
}

/** Counts a rebuild's progress across the shards of one projection. */
export interface RebuildTracker {
  applied(count: number): void;
}

/** Everything a worker needs; built by the runner. */
export interface WorkerSettings<TContext, TTransaction> {
  readonly store: EventStore;
  readonly projection: Projection<TContext>;
  readonly key: string;
  readonly shard: { readonly index: number; readonly count: number } | undefined;
  readonly checkpoints: CheckpointStore<TTransaction>;
  readonly leases: LeaseStore | undefined;
  readonly deadLetters: DeadLetterStore<TTransaction>;
  readonly transaction: ProjectionTransaction<TTransaction> | undefined;
  readonly context: (transaction: TTransaction | undefined) => TContext;
  readonly stats: EventLogStats;
  readonly owner: string;
  readonly batchSize: number;
  readonly leaseTtlMs: number;
  readonly statusRefreshMs: number;
  readonly logger: ProjectionLogger;
  /** Errors of the infrastructure (a lost connection): retried without end, never a poison event. */
  readonly isTransient: (error: unknown) => boolean;
}

/**
 * A handler threw on `events[index]` of the batch being committed; index -1: a batch handler threw,
 * on an event not known yet.
 */
class HandlerFailure {
  constructor(
    readonly index: number,
    readonly cause: unknown,
  ) {}
}

/**
 * The loop of one projection key (a projection, or one shard of it) on one runner: wait for the
 * lease, catch up from the checkpoint, apply live events in batches, heartbeat, retry, fail, stop.
 * Internal to {@link ProjectionRunner}.
 */
export class ProjectionWorker<TContext, TTransaction> {
  readonly #s: WorkerSettings<TContext, TTransaction>;
  readonly #filter: { readonly types: readonly string[] };
  /** Wakes sleeps early (desired again, stop) and waiters on position or state. */
  readonly #changes = new ChangeNotifier();
  #loop: Promise<void> | undefined;
  #abort = new AbortController();
  #stopRequested = false;
  #desired = true;
  #holdsLease = false;
  #leaseLost = false;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #reader: BatchReader<RecordedEvent> | undefined;
  #state: ProjectionState = 'stopped';
  /** The lag measurement in flight, if any. */
  #measuring: Promise<void> | undefined;
  /** When the lag was last measured (epoch ms). */
  #measuredAt = 0;
  #position = 0n;
  /** The checkpoint as stored (undefined: no row yet): the `expected` of the next compare-and-swap. */
  #expected: bigint | undefined;
  /** True while this worker's consume loop owns the checkpoint (then it alone moves `#position`). */
  #owning = false;
  #catchUpTarget: bigint | undefined;
  #lagEvents = 0;
  #oldestPendingAt: Date | undefined;
  #attempts = 0;
  /** Consecutive transient failures (they never count as attempts of the failure policy). */
  #transient = 0;
  /** Consecutive lease claims that failed because the store could not be reached. */
  #claimFailures = 0;
  #lastError: ProjectionErrorInfo | undefined;
  #failure: ProjectionFailed | undefined;
  #deadLettered = 0;
  #rebuild: RebuildTracker | undefined;
  /** Resolves the promise of {@link start} once the loop knows where it stands. */
  #settled: (() => void) | undefined;

  constructor(settings: WorkerSettings<TContext, TTransaction>) {
    this.#s = settings;
    this.#filter = { types: settings.projection.eventTypes };
  }

  get key(): string {
    return this.#s.key;
  }

  /** Whether this runner should hold this key (sharding); always true for an unsharded projection. */
  get desired(): boolean {
    return this.#desired;
  }

  get running(): boolean {
    return this.#loop !== undefined;
  }

  /**
   * Starts the loop (clearing an earlier failure). No-op while it runs. The state is at once what the
   * loop begins with (catching up, or standby until its lease is claimed); the promise resolves
   * once the loop knows where it stands (lease, checkpoint and lag read: `catching-up`, `running` or
   * `standby`), or met an error. It never rejects.
   */
  start(): Promise<void> {
    if (this.#loop !== undefined) return Promise.resolve();
    this.#stopRequested = false;
    this.#abort = new AbortController();
    this.#failure = undefined;
    this.#attempts = 0;
    // Until the lease is claimed (when there are leases), another runner may hold it.
    this.#setState(
      this.#rebuild !== undefined ? 'rebuilding' : this.#s.leases !== undefined ? 'standby' : 'catching-up',
    );
    const settled = new Promise<void>((resolve) => {
      this.#settled = resolve;
    });
    this.#loop = this.#run().finally(() => {
      this.#loop = undefined;
      this.#settle();
      this.#changes.notify();
    });
    return settled;
  }

  /** The loop knows where it stands (or met an error): {@link start}'s promise resolves. */
  #settle(): void {
    this.#settled?.();
    this.#settled = undefined;
  }

  /** Graceful stop: the batch being applied commits, then the lease is released. */
  async stop(): Promise<void> {
    this.#stopRequested = true;
    this.#abort.abort();
    this.#changes.notify();
    await this.#reader?.close();
    await this.#loop;
  }

  /** Sharding: whether this runner should hold this shard. Releasing happens after the current batch. */
  setDesired(desired: boolean): void {
    if (this.#desired === desired) return;
    this.#desired = desired;
    if (!desired) void this.#reader?.close();
    this.#changes.notify();
  }

  /** Marks the start or the end of a rebuild: progress goes to `tracker`, the state reads `rebuilding`. */
  setRebuild(tracker: RebuildTracker | undefined): void {
    this.#rebuild = tracker;
    if (tracker !== undefined) {
      this.#position = 0n;
      this.#catchUpTarget = undefined;
    } else if (this.#state === 'rebuilding') {
      this.#setState('running');
    }
  }

  /** Called by a rebuild after it moved the checkpoint back to zero. */
  resetPosition(): void {
    this.#position = 0n;
    this.#changes.notify();
  }

  status(): ProjectionStatus {
    return {
      name: this.#s.projection.name,
      key: this.#s.key,
      shard: this.#s.shard,
      state: this.#state,
      position: this.#position,
      lag: {
        events: this.#lagEvents,
        ms:
          this.#lagEvents > 0 && this.#oldestPendingAt !== undefined
            ? Math.max(0, Date.now() - this.#oldestPendingAt.getTime())
            : 0,
      },
      lastError: this.#lastError,
      deadLettered: this.#deadLettered,
      owner: this.#s.owner,
    };
  }

  /** Measures the lag now (and, in standby, reads the checkpoint another runner advances). */
  async refresh(): Promise<void> {
    await this.#loadStandbyPosition();
    await this.#measureOnce();
  }

  /** In standby: the checkpoint another runner advances. */
  async #loadStandbyPosition(): Promise<void> {
    if (!this.#owning) {
      const stored = await this.#s.checkpoints.load(this.#s.key);
      if (!this.#owning) this.#position = stored ?? 0n;
    }
  }

  /**
   * Resolves once the checkpoint reaches `position`, whichever runner applies the events; waits out
   * an unavailable store. Rejects with the projection's error if it fails here, or with `signal`'s reason.
   */
  async waitForPosition(position: bigint, signal?: AbortSignal): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      if (this.#failure !== undefined) throw this.#failure;
      const seen = this.#changes.version;
      if (!this.#owning) {
        try {
          const stored = await this.#s.checkpoints.load(this.#s.key);
          if (!this.#owning) this.#position = stored ?? 0n;
        } catch (error) {
          // The store is down: wait on, as the runner does; anything else ends the wait.
          if (!this.#s.isTransient(error)) throw error;
        }
      }
      if (this.#position >= position) return;
      await this.#changes.wait(seen, { timeoutMs: 200, ...(signal === undefined ? {} : { signal }) });
    }
  }

  async #run(): Promise<void> {
    const { logger, key, leaseTtlMs } = this.#s;
    const pollMs = Math.max(10, Math.floor(leaseTtlMs / 3));
    try {
      while (!this.#stopRequested) {
        const claim = await this.#claim();
        if (claim !== 'held') {
          this.#setState('standby');
          this.#settle();
          if (claim === 'unavailable') {
            // The store is down, not the lease taken: try again soon, so the runner resumes as soon
            // as the database is back. The lease keeps its safety: only a free or expired one is taken.
            await this.#sleep(transientDelay(this.#claimFailures));
            continue;
          }
          // The checkpoint at every poll; the lag (a count over the log) once per statusRefreshMs.
          await this.#loadStandbyPosition().catch(() => undefined);
          if (Date.now() - this.#measuredAt >= this.#s.statusRefreshMs) {
            await this.#measureOnce().catch(() => undefined);
          }
          await this.#sleep(pollMs);
          continue;
        }
        try {
          await this.#consume();
          if (!this.#desired) await this.#releaseLease();
        } catch (error) {
          if (isLeaseLost(error)) {
            logger.warn(`Projection ${key} lost its lease; standing by.`, { error });
            this.#holdsLease = false;
            this.#stopHeartbeat();
            this.#setState('standby');
            await this.#sleep(pollMs);
            continue;
          }
          if (error instanceof ProjectionFailed) {
            this.#fail(error);
            return;
          }
          const info = eventOf(error);
          if (this.#s.isTransient(error)) {
            await this.#transientFailure(error, info);
            continue;
          }
          // Reading, committing or the checkpoint store failed outside a handler: same retry policy.

          this.#attempts++;
          this.#recordError(error, info, this.#attempts);
          if (this.#attempts > this.#s.projection.failure.retries) {
            this.#fail(new ProjectionFailed(key, info, this.#attempts, error));
            return;
          }
          logger.warn(
            `Projection ${key} failed outside its handlers (attempt ${this.#attempts}); retrying.`,
            {
              error,
            },
          );
          await this.#sleep(backoffDelay(this.#attempts, this.#s.projection.failure.backoff));
        }
      }
    } finally {
      this.#stopHeartbeat();
      await this.#releaseLease();
      if (this.#state !== 'failed') this.#setState('stopped');
    }
  }

  /**
   * Claims the lease: `'held'` (ours, or no leases), `'elsewhere'` (another runner holds it, or this
   * runner should not), `'unavailable'` (the store could not be reached: retried on a short backoff).
   */
  async #claim(): Promise<'held' | 'elsewhere' | 'unavailable'> {
    const { leases, key, owner, leaseTtlMs, logger } = this.#s;
    if (leases === undefined) return 'held';
    if (!this.#desired) return 'elsewhere';
    try {
      if (!(await leases.acquire(key, owner, leaseTtlMs))) {
        this.#claimFailures = 0;
        return 'elsewhere';
      }
    } catch (error) {
      if (this.#s.isTransient(error)) {
        this.#claimFailures++;
        this.#recordError(error, undefined, this.#claimFailures);
        if (worthLogging(this.#claimFailures)) {
          logger.warn(
            `Projection ${key}: acquiring its lease failed, the store is unavailable (${this.#claimFailures} in a row); retrying.`,
            { error },
          );
        }
        return 'unavailable';
      }
      logger.warn(`Projection ${key}: acquiring its lease failed; retrying.`, { error });
      return 'elsewhere';
    }
    this.#claimFailures = 0;
    this.#holdsLease = true;
    this.#leaseLost = false;
    this.#startHeartbeat();
    return 'held';
  }

  #startHeartbeat(): void {
    const { leases, key, owner, leaseTtlMs, logger } = this.#s;
    if (leases === undefined || this.#heartbeat !== undefined) return;
    let renewing = false;
    this.#heartbeat = setInterval(
      () => {
        if (renewing) return;
        renewing = true;
        leases
          .renew(key, owner, leaseTtlMs)
          .then((held) => {
            if (!held && this.#holdsLease) {
              this.#leaseLost = true;
              void this.#reader?.close();
              this.#changes.notify();
            }
          })
          .catch((error: unknown) => logger.warn(`Projection ${key}: renewing its lease failed.`, { error }))
          .finally(() => {
            renewing = false;
          });
      },
      Math.max(10, Math.floor(leaseTtlMs / 3)),
    );
    this.#heartbeat.unref?.();
  }

  #stopHeartbeat(): void {
    if (this.#heartbeat !== undefined) clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }

  async #releaseLease(): Promise<void> {
    this.#stopHeartbeat();
    if (!this.#holdsLease || this.#s.leases === undefined) return;
    this.#holdsLease = false;
    try {
      await this.#s.leases.release(this.#s.key, this.#s.owner);
    } catch (error) {
      this.#s.logger.warn(`Projection ${this.#s.key}: releasing its lease failed; it will expire.`, {
        error,
      });
    }
  }

  /** Catch-up then live from the checkpoint, until stopped, released or the lease is lost. */
  async #consume(): Promise<void> {
    const { store, checkpoints, key, statusRefreshMs } = this.#s;
    this.#owning = true;
    let reader: BatchReader<RecordedEvent> | undefined;
    let refresh: ReturnType<typeof setInterval> | undefined;
    try {
      this.#expected = await checkpoints.load(key);
      this.#position = this.#expected ?? 0n;
      this.#catchUpTarget = undefined;
      await this.#measure(true);
      this.#setState(
        this.#rebuild !== undefined ? 'rebuilding' : this.#caughtUp() ? 'running' : 'catching-up',
      );
      this.#settle();
      reader = new BatchReader(
        store.subscribeToAll({ fromPosition: this.#position + 1n, filter: this.#filter }),
      );
      this.#reader = reader;
      if (this.#stopRequested || this.#leaseLost || !this.#desired) await reader.close();
      // While catching up or rebuilding, committed batches count the lag down; a count over the log
      // then would only compete with the batches.
      refresh = setInterval(() => {
        if (this.#state === 'running') this.#measureOnce().catch(() => undefined);
      }, statusRefreshMs);
      refresh.unref?.();
      while (!this.#stopRequested && !this.#leaseLost && this.#desired) {
        const batch = await reader.next(this.#batchSize());
        if (batch.length === 0) break;
        if (!(await this.#applyBatch(batch))) break;
      }
    } finally {
      if (refresh !== undefined) clearInterval(refresh);
      this.#reader = undefined;
      this.#owning = false;
      await reader?.close();
    }
    if (this.#leaseLost) throw new LeaseLost(key, this.#s.owner, 'a heartbeat found its lease taken');
  }

  #batchSize(): number {
    return this.#s.projection.batchSize ?? this.#s.batchSize;
  }

  /**
   * Applies a batch under the failure policy. False when a stop interrupted the retries.
   *
   * A batch projection's batch is applied with one call of its batch handler. When that keeps failing
   * until the retries are spent, the batch is applied again one event at a time (each event with its
   * own call, all in one transaction), which finds the event it fails on: the events before it
   * commit, and the policy (stop or dead-letter) applies to that event, as for per-event handlers.
   */
  async #applyBatch(batch: readonly RecordedEvent[]): Promise<boolean> {
    const { projection, key, logger, transaction } = this.#s;
    const policy = projection.failure;
    let remaining = batch;
    // One event at a time: always for per-event handlers; for a batch handler, to find a poison event.
    let single = projection.batched !== true;
    // After the store became unavailable outside the handlers (at BEGIN, the checkpoint, COMMIT): the
    // commit may have gone through, which the stored checkpoint tells before the batch is retried.
    let uncertain = false;
    while (remaining.length > 0) {
      if (uncertain) {
        let stored: bigint | undefined;
        try {
          // The lease may have expired during the outage: renew it now rather than at the next
          // heartbeat (only while it is still ours; when another runner took it, stand by).
          if (
            this.#s.leases !== undefined &&
            !(await this.#s.leases.renew(key, this.#s.owner, this.#s.leaseTtlMs))
          ) {
            throw new LeaseLost(
              key,
              this.#s.owner,
              'another runner took its lease while the store was unavailable',
            );
          }
          stored = await this.#s.checkpoints.load(key);
        } catch (error) {
          if (isLeaseLost(error)) throw error;
          if (!this.#s.isTransient(error)) throw error;
          await this.#transientFailure(error, undefined);
          if (this.#stopRequested || this.#leaseLost || !this.#desired) return false;
          continue;
        }
        uncertain = false;
        remaining = this.#skipCommitted(remaining, stored);
        if (remaining.length === 0) {
          this.#transient = 0;
          return true;
        }
      }
      try {
        await this.#commit(remaining, single);
        this.#attempts = 0;
        this.#transient = 0;
        return true;
      } catch (error) {
        if (isLeaseLost(error)) throw error;
        if (!(error instanceof HandlerFailure)) {
          // The store is unavailable: retry this batch on the same subscription, no attempt counted.
          if (!this.#s.isTransient(error)) throw error;
          await this.#transientFailure(error, undefined);
          if (this.#stopRequested || this.#leaseLost || !this.#desired) return false;
          uncertain = true;
          continue;
        }
        if (error.index < 0) {
          // The batch handler failed; nothing of the batch was kept (with a transaction).
          if (this.#s.isTransient(error.cause)) {
            await this.#transientFailure(error.cause, undefined);
            if (this.#stopRequested || this.#leaseLost || !this.#desired) return false;
            continue;
          }
          this.#attempts++;
          this.#recordError(error.cause, undefined, this.#attempts);
          if (this.#attempts > policy.retries) {
            logger.warn(
              `Projection ${key} failed on a batch of ${remaining.length} events (attempt ${this.#attempts}); applying them one at a time to find the event.`,
              { error: error.cause },
            );
            single = true;
            continue;
          }
          logger.warn(
            `Projection ${key} failed on a batch of ${remaining.length} events (attempt ${this.#attempts}); retrying.`,
            { error: error.cause },
          );
          await this.#sleep(backoffDelay(this.#attempts, policy.backoff));
          if (this.#stopRequested || this.#leaseLost || !this.#desired) return false;
          continue;
        }
        if (error.index > 0) {
          // Without a transaction the events before are checkpointed already; with one, commit them
          // now, so retries (and a failed state or dead letter) concern the failing event alone.
          // Should that fail, the run loop starts over from the stored checkpoint.
          if (transaction !== undefined) {
            try {
              await this.#commit(remaining.slice(0, error.index), true);
            } catch (prefixError) {
              throw prefixError instanceof HandlerFailure ? prefixError.cause : prefixError;
            }
          }
          remaining = remaining.slice(error.index);
        }
        if (this.#s.isTransient(error.cause)) {
          await this.#transientFailure(error.cause, failedEventInfo(remaining[0]!));
          if (this.#stopRequested || this.#leaseLost || !this.#desired) return false;
          continue;
        }
        const event = remaining[0]!;
        this.#attempts++;
        const info = failedEventInfo(event);
        this.#recordError(error.cause, info, this.#attempts);
        if (this.#attempts > policy.retries) {
          if (policy.onExhausted === 'dead-letter') {
            await this.#commitDeadLetter(event, error.cause, this.#attempts);
            logger.warn(
              `Projection ${key} skipped event ${event.id} after ${this.#attempts} attempts; recorded as a dead letter.`,
              { error: error.cause },
            );
            this.#attempts = 0;
            remaining = remaining.slice(1);
            // The rest of the batch goes back to the batch handler.
            single = projection.batched !== true;
            continue;
          }
          throw new ProjectionFailed(key, info, this.#attempts, error.cause);
        }
        logger.warn(`Projection ${key} failed on event ${event.id} (attempt ${this.#attempts}); retrying.`, {
          error: error.cause,
        });
        await this.#sleep(backoffDelay(this.#attempts, policy.backoff));
        if (this.#stopRequested || this.#leaseLost || !this.#desired) return false;
      }
    }
    return true;
  }

  /**
   * The events of `events` after the stored checkpoint, once a commit whose outcome was unknown is
   * settled: when the checkpoint is at one of them, that commit went through (it is recorded as
   * committed here). A checkpoint anywhere else is left to the next commit's compare-and-swap, which
   * throws `LeaseLost` if another runner moved it.
   */
  #skipCommitted(events: readonly RecordedEvent[], stored: bigint | undefined): readonly RecordedEvent[] {
    if (stored === undefined || stored === this.#expected) return events;
    const index = events.findIndex((e) => e.position === stored);
    if (index < 0) return events;
    this.#committed(events[index]!, index + 1, index + 1);
    return events.slice(index + 1);
  }

  /**
   * Records a transient failure (the store unavailable, a lost connection) and waits before the retry:
   * a short capped backoff, without end, never an attempt of the failure policy.
   */
  async #transientFailure(error: unknown, event: ProjectionErrorInfo['event']): Promise<void> {
    this.#transient++;
    this.#recordError(error, event, this.#transient);
    if (worthLogging(this.#transient)) {
      this.#s.logger.warn(
        `Projection ${this.#s.key}: transient failure (${this.#transient} in a row); retrying.`,
        { error },
      );
    }
    await this.#sleep(transientDelay(this.#transient));
  }

  /**
   * Applies `events` and moves the checkpoint past them: in one transaction, or without one event by
   * event (`single`) or after the batch handler's call.
   */
  async #commit(events: readonly RecordedEvent[], single: boolean): Promise<void> {
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
        this.#committed(event, handled);
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

  async #commitDeadLetter(event: RecordedEvent, cause: unknown, attempts: number): Promise<void> {
    const { transaction, deadLetters, checkpoints, key, owner, projection } = this.#s;
    const letter = {
      projection: projection.name,
      key,
      eventId: event.id,
      eventType: event.type,
      streamId: event.streamId,
      position: event.position,
      error: describe(cause),
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
    this.#committed(event, 1);
  }

  /** Bookkeeping after a commit that moved the checkpoint to `last.position`. */
  #committed(last: RecordedEvent, handled: number, seen = 1): void {
    this.#position = last.position;
    this.#expected = last.position;
    this.#lagEvents = Math.max(0, this.#lagEvents - seen);
    if (this.#lagEvents > 0) this.#oldestPendingAt = last.recordedAt;
    if (handled > 0) this.#rebuild?.applied(handled);
    if (this.#caughtUp() && (this.#state === 'catching-up' || this.#state === 'rebuilding')) {
      if (this.#rebuild === undefined) this.#setState('running');
    }
    this.#changes.notify();
  }

  #caughtUp(): boolean {
    return this.#catchUpTarget === undefined || this.#position >= this.#catchUpTarget;
  }

  /** {@link #measure}, unless a measurement is running already: then that one. */
  #measureOnce(): Promise<void> {
    this.#measuring ??= this.#measure().finally(() => {
      this.#measuring = undefined;
    });
    return this.#measuring;
  }

  async #measure(setTarget = false): Promise<void> {
    this.#measuredAt = Date.now();
    const pending = await this.#s.stats.pending({ afterPosition: this.#position, filter: this.#filter });
    this.#lagEvents = pending.count;
    this.#oldestPendingAt = pending.oldestRecordedAt;
    if (setTarget) this.#catchUpTarget = pending.lastPosition;
  }

  #recordError(error: unknown, event: ProjectionErrorInfo['event'], attempts: number): void {
    this.#lastError = { message: describe(error), event, attempts, at: new Date(), error };
    this.#settle();
  }

  #fail(error: ProjectionFailed): void {
    this.#failure = error;
    this.#setState('failed');
    this.#s.logger.error(error.message, { error: error.cause });
  }

  #setState(state: ProjectionState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#changes.notify();
  }

  /** Sleeps `ms`, waking early on any change (stop, a lost lease, a new shard assignment). */
  async #sleep(ms: number): Promise<void> {
    if (this.#stopRequested) return;
    await this.#changes.wait(this.#changes.version, { timeoutMs: ms, signal: this.#abort.signal });
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** The event an error is about, when it names one (an upcast failure names its event id). */
function eventOf(error: unknown): ProjectionErrorInfo['event'] {
  const id = (error as { eventId?: unknown } | null)?.eventId;
  if (typeof id !== 'string') return undefined;
  const { eventType, streamId } = error as { eventType?: unknown; streamId?: unknown };
  return {
    id,
    type: typeof eventType === 'string' ? eventType : 'unknown',
    streamId: typeof streamId === 'string' ? streamId : undefined,
    position: undefined,
  };
}
