import type { RecordedEvent } from '../../events/event-types.js';
import { ProjectionTelemetry } from '../../observability/projection-telemetry.js';
import { ChangeNotifier } from '../../store/change-notifier.js';
import type { EventFilter } from '../../store/event-store.js';
import { BatchReader } from '../batch-reader.js';
import { isCheckpointConflict, isLeaseLost, LeaseLost, ProjectionFailed } from '../projection-errors.js';
import { projectionFilter } from '../projection-filter.js';
import type { ProjectionStatus } from '../projection-status.js';
import type { RebuildTracker } from '../rebuild-progress.js';
import { transientDelay } from '../transient-retry.js';
import { BatchApplier } from './batch-applier.js';
import { BatchCommitter } from './batch-committer.js';
import { FailureRecord } from './failure-record.js';
import { LagMeter } from './lag-meter.js';
import { LeaseHolder } from './lease-holder.js';
import { PauseWatch } from './pause-watch.js';
import { pollInterval, type WorkerSettings } from './worker-settings.js';
import { WorkerState } from './worker-state.js';

/**
 * The loop of one projection key (a projection, or one shard of it) on one runner: wait for the
 * lease, catch up from the checkpoint, apply live events in batches, retry, fail, stop. Its state
 * moves through {@link WorkerState}; the lease is a {@link LeaseHolder}'s, a batch goes through a
 * {@link BatchApplier} (the failure policy) to a {@link BatchCommitter} (the checkpoint), and the lag
 * is a {@link LagMeter}'s. Internal to `ProjectionRunner`.
 */
export class ProjectionWorker<TContext, TTransaction> {
  readonly #s: WorkerSettings<TContext, TTransaction>;
  readonly #filter: EventFilter;
  /** Wakes sleeps early (desired again, stop) and waiters on position or state. */
  readonly #changes = new ChangeNotifier();
  readonly #state = new WorkerState(() => this.#changes.notify());
  readonly #lease: LeaseHolder;
  readonly #pause: PauseWatch;
  readonly #lag: LagMeter;
  readonly #telemetry: ProjectionTelemetry;
  readonly #failures: FailureRecord;
  readonly #committer: BatchCommitter<TContext, TTransaction>;
  readonly #applier: BatchApplier<TContext, TTransaction>;
  #loop: Promise<void> | undefined;
  /** Aborted by {@link stop}: the loop ends after the current batch. */
  #abort = new AbortController();
  #desired = true;
  #reader: BatchReader<RecordedEvent> | undefined;
  #position = 0n;
  /** True while this worker's consume loop owns the checkpoint (then it alone moves `#position`). */
  #owning = false;
  #failure: ProjectionFailed | undefined;
  #rebuild: RebuildTracker | undefined;
  /** Resolves the promise of {@link start} once the loop knows where it stands. */
  #settled: (() => void) | undefined;

  constructor(settings: WorkerSettings<TContext, TTransaction>) {
    this.#s = settings;
    this.#filter = projectionFilter(settings.projection);
    const sleep = (ms: number) => this.#sleep(ms);
    this.#failures = new FailureRecord(settings.key, settings.logger, () => this.#settle(), sleep);
    this.#lease = new LeaseHolder(settings, {
      lost: () => {
        void this.#reader?.close();
        this.#changes.notify();
      },
      unavailable: (error, failures) => this.#failures.record(error, undefined, failures),
    });
    this.#pause = new PauseWatch(
      settings.control,
      settings.projection.name,
      pollInterval(settings.leaseTtlMs),
      settings.logger,
      () => {
        void this.#reader?.close();
        this.#changes.notify();
      },
    );
    this.#telemetry = new ProjectionTelemetry(settings.projection.name, settings.key, () => this.#lag.lag());
    this.#lag = new LagMeter(
      settings.stats,
      this.#filter,
      () => this.#position,
      () => this.#telemetry.recordLag(),
    );
    this.#committer = new BatchCommitter(settings, (last, handled, seen) =>
      this.#committed(last, handled, seen),
    );
    this.#applier = new BatchApplier(settings, this.#committer, this.#lease, this.#failures, {
      interrupted: () => this.#interrupted(),
      sleep,
      deadLettered: () => this.#telemetry.deadLettered(),
    });
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
    this.#abort = new AbortController();
    this.#failure = undefined;
    this.#failures.attempts = 0;
    // Until the lease is claimed (when there are leases), another runner may hold it.
    this.#state.to(
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

  /** Graceful stop: the batch being applied commits, then the lease is released. */
  async stop(): Promise<void> {
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

  /**
   * This runner paused (`true`) or resumed the projection: the worker acts on it at once, rather than
   * at its next read of the control (a batch being applied commits first).
   */
  setPaused(paused: boolean): void {
    this.#pause.set(paused);
    this.#changes.notify();
  }

  /** Resolves once a paused loop has let go of its key (or the loop ended, or it was resumed meanwhile). */
  async waitUntilPaused(): Promise<void> {
    for (;;) {
      const seen = this.#changes.version;
      if (this.#loop === undefined || !this.#pause.paused || this.#state.is('paused', 'failed')) return;
      await this.#changes.wait(seen, { timeoutMs: 200 });
    }
  }

  /** Marks the start or the end of a rebuild: progress goes to `tracker`, the state reads `rebuilding`. */
  setRebuild(tracker: RebuildTracker | undefined): void {
    this.#rebuild = tracker;
    if (tracker !== undefined) {
      this.#position = 0n;
      this.#lag.clearTarget();
    } else if (this.#state.is('rebuilding')) {
      this.#state.to('running');
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
      state: this.#state.current,
      position: this.#position,
      lag: this.#lag.lag(),
      lastError: this.#failures.last,
      deadLettered: this.#committer.deadLettered,
      owner: this.#s.owner,
    };
  }

  /** Measures the lag now (and, in standby, reads the checkpoint another runner advances). */
  async refresh(): Promise<void> {
    await this.#loadStandbyPosition();
    await this.#lag.measureOnce();
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
      try {
        await this.#loadStandbyPosition();
      } catch (error) {
        // The store is down: wait on, as the runner does; anything else ends the wait.
        if (!this.#s.isTransient(error)) throw error;
      }
      if (this.#position >= position) return;
      await this.#changes.wait(seen, { timeoutMs: 200, ...(signal === undefined ? {} : { signal }) });
    }
  }

  /** In standby: the checkpoint another runner advances. */
  async #loadStandbyPosition(): Promise<void> {
    if (!this.#owning) {
      const stored = await this.#s.checkpoints.load(this.#s.key);
      if (!this.#owning) this.#position = stored ?? 0n;
    }
  }

  /** True when the worker should let go of its key: stopped, paused, lease lost, or shard assigned elsewhere. */
  #interrupted(): boolean {
    return this.#abort.signal.aborted || this.#lease.lost || !this.#desired || this.#pause.paused;
  }

  async #run(): Promise<void> {
    const { logger, key } = this.#s;
    const pollMs = pollInterval(this.#s.leaseTtlMs);
    /** The position when the lease was last lost, or undefined. */
    let lostAt: bigint | undefined;
    try {
      while (!this.#abort.signal.aborted) {
        if (await this.#pause.check()) {
          // Paused on some runner: hold no lease (no runner takes it while paused), apply nothing,
          // follow the checkpoint; resumed, the loop claims the key again and goes on from there.
          await this.#lease.release();
          this.#state.to('paused');
          this.#settle();
          await this.#loadStandbyPosition().catch(() => undefined);
          if (this.#lag.due(this.#s.statusRefreshMs)) await this.#lag.measureOnce().catch(() => undefined);
          await this.#sleep(pollMs);
          continue;
        }
        const claim = await this.#lease.claim(this.#desired);
        if (claim !== 'held') {
          this.#state.to('standby');
          this.#settle();
          if (claim === 'unavailable') {
            // The store is down, not the lease taken: try again soon, so the runner resumes as soon
            // as the database is back. The lease keeps its safety: only a free or expired one is taken.
            await this.#sleep(transientDelay(this.#lease.claimFailures));
            continue;
          }
          // The checkpoint at every poll; the lag (a count over the log) once per statusRefreshMs.
          await this.#loadStandbyPosition().catch(() => undefined);
          if (this.#lag.due(this.#s.statusRefreshMs)) await this.#lag.measureOnce().catch(() => undefined);
          await this.#sleep(pollMs);
          continue;
        }
        try {
          await this.#consume();
          if (!this.#desired) await this.#lease.release();
        } catch (error) {
          if (isLeaseLost(error) || isCheckpointConflict(error)) {
            // Another runner owns the key now (or moved its checkpoint): stand by, and resume from
            // the stored checkpoint if the lease comes back.
            logger.warn(
              { err: error },
              isLeaseLost(error)
                ? `Projection ${key} lost its lease; standing by.`
                : `Projection ${key}: its checkpoint moved under it; standing by.`,
            );
            this.#lease.drop();
            this.#state.to('standby');
            // Claim again at once the first time: a claim takes only a free or expired lease, so a
            // lease that merely expired while no heartbeat could renew it (an outage) is ours again
            // now, and one another runner holds sends the loop to the standby poll. A second loss
            // with no progress between waits the poll, so a lease that keeps slipping cannot spin.
            if (lostAt === this.#position) await this.#sleep(pollMs);
            lostAt = this.#position;
            continue;
          }
          if (error instanceof ProjectionFailed) {
            this.#fail(error);
            return;
          }
          if (!(await this.#retryAfter(error))) return;
        }
      }
    } finally {
      await this.#lease.release();
      if (!this.#state.is('failed')) this.#state.to('stopped');
    }
  }

  /**
   * Reading, committing or the checkpoint store failed outside a handler: transient errors are
   * retried without end, others under the failure policy. False when the projection failed.
   */
  async #retryAfter(error: unknown): Promise<boolean> {
    const failed = await this.#failures.outsideHandlers(
      error,
      this.#s.isTransient(error),
      this.#s.projection.failure,
    );
    if (failed !== undefined) this.#fail(failed);
    return failed === undefined;
  }

  /** Catch-up then live from the checkpoint, until stopped, released or the lease is lost. */
  async #consume(): Promise<void> {
    const { store, key, statusRefreshMs } = this.#s;
    this.#owning = true;
    let reader: BatchReader<RecordedEvent> | undefined;
    let refresh: ReturnType<typeof setInterval> | undefined;
    try {
      this.#position = (await this.#committer.begin()) ?? 0n;
      this.#lag.clearTarget();
      await this.#lag.measure(true);
      this.#state.to(
        this.#rebuild !== undefined
          ? 'rebuilding'
          : this.#lag.caughtUp(this.#position)
            ? 'running'
            : 'catching-up',
      );
      this.#settle();
      reader = new BatchReader(
        store.subscribeToAll({ fromPosition: this.#position + 1n, filter: this.#filter }),
      );
      this.#reader = reader;
      if (this.#interrupted()) await reader.close();
      // While catching up or rebuilding, committed batches count the lag down; a count over the log
      // then would only compete with the batches.
      refresh = setInterval(() => {
        if (this.#state.is('running')) this.#lag.measureOnce().catch(() => undefined);
      }, statusRefreshMs);
      refresh.unref?.();
      this.#pause.watch();
      while (!this.#interrupted()) {
        const batch = await reader.next(this.#s.projection.batchSize ?? this.#s.batchSize);
        if (batch.length === 0) break;
        if (!(await this.#telemetry.traceBatch(batch, () => this.#applier.apply(batch)))) break;
      }
    } finally {
      if (refresh !== undefined) clearInterval(refresh);
      this.#pause.unwatch();
      this.#reader = undefined;
      this.#owning = false;
      await reader?.close();
    }
    if (this.#lease.lost) throw new LeaseLost(key, this.#s.owner, 'a heartbeat found its lease taken');
  }

  /** Bookkeeping after a commit that moved the checkpoint to `last.position`. */
  #committed(last: RecordedEvent, handled: number, seen: number): void {
    this.#position = last.position;
    this.#lag.countDown(seen, last);
    if (handled > 0) this.#rebuild?.applied(handled);
    if (
      this.#rebuild === undefined &&
      this.#lag.caughtUp(this.#position) &&
      this.#state.is('catching-up', 'rebuilding')
    ) {
      this.#state.to('running');
    }
    this.#changes.notify();
  }

  /** The loop knows where it stands (or met an error): {@link start}'s promise resolves. */
  #settle(): void {
    this.#settled?.();
    this.#settled = undefined;
  }

  #fail(error: ProjectionFailed): void {
    this.#failure = error;
    this.#state.to('failed');
    this.#s.logger.error({ err: error.cause }, error.message);
  }

  /** Sleeps `ms`, waking early on any change (stop, a lost lease, a new shard assignment). */
  async #sleep(ms: number): Promise<void> {
    if (this.#abort.signal.aborted) return;
    await this.#changes.wait(this.#changes.version, { timeoutMs: ms, signal: this.#abort.signal });
  }
}
