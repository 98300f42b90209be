import { hostname } from 'node:os';
import { InvalidArgument } from '../errors/store-errors.js';
import { uuidv7 } from '../events/uuid.js';
import { childLogger, consoleLogger } from '../observability/logger.js';
import { MAX_KEY_BYTES } from '../store/limits.js';
import { storeKeyProblem } from '../store/store-key.js';
import type { CheckpointStore } from './checkpoint-store.js';
import { type DeadLetterStore, InMemoryDeadLetterStore } from './dead-letter-store.js';
import type { Projection, ProjectionContext } from './define-projection.js';
import { type EventLogStats, readAllLogStats } from './event-log-stats.js';
import { InMemoryCheckpointStore } from './in-memory-checkpoint-store.js';
import { InMemoryProjectionControl } from './in-memory-projection-control.js';
import type { ProjectionControl } from './projection-control.js';
import { LeaseLost, ProjectionDefinitionInvalid } from './projection-errors.js';
import { projectionFilter } from './projection-filter.js';
import {
  type ProjectionRunnerOptions,
  positiveInteger,
  type RebuildOptions,
  type RebuildResult,
} from './projection-runner-options.js';
import type { ProjectionStatus } from './projection-status.js';
import { RebuildProgressTracker } from './rebuild-progress.js';
import { shardKey } from './shard.js';
import { memberKey, ShardAssignment } from './shard-assignment.js';
import { isUnavailableOr } from './transient-retry.js';
import { ProjectionWorker } from './worker/projection-worker.js';

/**
 * Runs projections: for each, catch-up from its checkpoint through `subscribeToAll` (filtered to the
 * types it handles), then live; in batches, each committed with its checkpoint; under the
 * projection's failure policy (retry with backoff, then stop or dead-letter; never a silent skip).
 * With `leases`, each projection (or shard) is active on one runner at a time and moves to another
 * when its runner dies. The in-memory defaults make it the embedded runner; `@annals/postgres`
 * supplies the transactional stores.
 *
 * @example
 * ```ts
 * const runner = new ProjectionRunner({ store, projections: [AccountBalances] });
 * await runner.start();
 * await runner.waitUntilCaughtUp();
 * runner.status(); // [{ name: 'account-balances', state: 'running', position: 42n, lag: { events: 0, ms: 0 }, ... }]
 * await runner.rebuild('account-balances', { onProgress: (p) => console.log(p.done, '/', p.total) });
 * await runner.stop();
 * ```
 */
export class ProjectionRunner<TContext = ProjectionContext, TTransaction = undefined> {
  /** This runner's id (lease owner). */
  readonly owner: string;
  /** Where skipped poison events are recorded. */
  readonly deadLetters: DeadLetterStore<TTransaction>;
  /** Where this runner reads and records pauses (see {@link pause}). */
  readonly control: ProjectionControl;
  readonly #options: ProjectionRunnerOptions<TContext, TTransaction>;
  readonly #projections = new Map<string, Projection<TContext>>();
  readonly #workers = new Map<string, ProjectionWorker<TContext, TTransaction>[]>();
  readonly #assignments: ShardAssignment<TContext, TTransaction>[] = [];
  readonly #stats: EventLogStats;
  readonly #checkpoints: CheckpointStore<TTransaction>;
  readonly #leaseTtlMs: number;
  readonly #rebuilding = new Set<string>();
  #started = false;

  constructor(options: ProjectionRunnerOptions<TContext, TTransaction>) {
    if (typeof options !== 'object' || options === null) {
      throw new InvalidArgument(`ProjectionRunner expects an options object, found ${String(options)}.`);
    }
    const { store, projections } = options;
    if (typeof store?.subscribeToAll !== 'function') {
      throw new InvalidArgument('ProjectionRunner expects options.store to be an EventStore, found none.');
    }
    if (!Array.isArray(projections) || projections.length === 0) {
      throw new InvalidArgument(
        'ProjectionRunner expects options.projections to list at least one projection.',
      );
    }
    const batchSize = positiveInteger('batchSize', options.batchSize ?? 500);
    this.#leaseTtlMs = positiveInteger('leaseTtlMs', options.leaseTtlMs ?? 10_000);
    const statusRefreshMs = positiveInteger('statusRefreshMs', options.statusRefreshMs ?? 1000);
    if (options.transaction !== undefined && options.checkpoints === undefined) {
      throw new ProjectionDefinitionInvalid(
        undefined,
        'a runner with a transaction needs a checkpoint store that joins it (options.checkpoints); the in-memory one does not.',
      );
    }
    this.#options = options;
    this.owner = options.owner ?? `${hostname()}-${process.pid}-${uuidv7().slice(-8)}`;
    assertRunnerKey(undefined, 'options.owner', this.owner);
    this.#checkpoints =
      options.checkpoints ??
      (new InMemoryCheckpointStore(
        options.leases === undefined ? {} : { leases: options.leases },
      ) as unknown as CheckpointStore<TTransaction>);
    this.deadLetters =
      options.deadLetters ?? (new InMemoryDeadLetterStore() as unknown as DeadLetterStore<TTransaction>);
    this.control = options.control ?? new InMemoryProjectionControl();
    this.#stats = options.stats ?? store.logStats?.() ?? readAllLogStats(store);
    const logger = options.logger ?? consoleLogger;
    const context = options.context ?? ((tx: TTransaction | undefined) => ({ tx }) as TContext);

    for (const projection of projections) {
      if (typeof projection?.handle !== 'function' || typeof projection.name !== 'string') {
        throw new ProjectionDefinitionInvalid(
          undefined,
          `options.projections must hold projections made by defineProjection, found ${String(projection)}.`,
        );
      }
      if (this.#projections.has(projection.name)) {
        throw new ProjectionDefinitionInvalid(
          projection.name,
          'the runner was given two projections with this name.',
        );
      }
      if (
        projection.failure.onExhausted === 'dead-letter' &&
        options.transaction !== undefined &&
        options.deadLetters === undefined
      ) {
        throw new ProjectionDefinitionInvalid(
          projection.name,
          "its failure policy is 'dead-letter', so the runner needs a deadLetters store that joins its transaction.",
        );
      }
      this.#projections.set(projection.name, projection);
      const workers: ProjectionWorker<TContext, TTransaction>[] = [];
      for (let index = 0; index < projection.shards; index++) {
        workers.push(
          new ProjectionWorker({
            store,
            projection,
            key: shardKey(projection.name, index, projection.shards),
            shard: projection.shards === 1 ? undefined : { index, count: projection.shards },
            checkpoints: this.#checkpoints,
            leases: options.leases,
            control: this.control,
            deadLetters: this.deadLetters,
            transaction: options.transaction,
            context,
            stats: this.#stats,
            owner: this.owner,
            batchSize,
            leaseTtlMs: this.#leaseTtlMs,
            statusRefreshMs,
            logger: childLogger(logger, { projection: projection.name }),
            isTransient: isUnavailableOr(options.isTransient, projection.isTransient),
          }),
        );
      }
      this.#workers.set(projection.name, workers);
      if (projection.shards > 1 && options.leases !== undefined) {
        assertRunnerKey(projection.name, 'its membership lease key', memberKey(projection.name, this.owner));
        this.#assignments.push(
          new ShardAssignment(projection.name, workers, options.leases, this.owner, this.#leaseTtlMs, logger),
        );
      }
    }
  }

  /** True between `start()` and `stop()`. */
  get started(): boolean {
    return this.#started;
  }

  /**
   * Starts every projection: each catches up from its checkpoint, then follows the log live (or waits
   * in standby while another runner holds its lease). Resolves once each knows where it stands (its
   * lease, checkpoint and lag read), so `status()` then says `catching-up`, `running` or `standby`;
   * not when they are caught up (see {@link waitUntilCaughtUp}). A projection whose first reads fail
   * does not hold it: it retries, with the error in `lastError`. No-op when started.
   */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    await Promise.all(this.#assignments.map((a) => a.start()));
    await Promise.all([...this.#workers.values()].flat().map((worker) => worker.start()));
  }

  /**
   * Stops every projection gracefully: a batch being applied commits first; leases are released so
   * another runner takes over at once.
   */
  async stop(): Promise<void> {
    this.#started = false;
    await Promise.all([...this.#workers.values()].flat().map((w) => w.stop()));
    await Promise.all(this.#assignments.map((a) => a.stop()));
  }

  /** The status of every projection (one entry per shard), or of one key (`name`, or `name[i/n]`). */
  status(): readonly ProjectionStatus[];
  status(key: string): ProjectionStatus | undefined;
  status(key?: string): readonly ProjectionStatus[] | ProjectionStatus | undefined {
    const all = [...this.#workers.values()].flat();
    if (key === undefined) return all.map((w) => w.status());
    return all.find((w) => w.key === key)?.status();
  }

  /** Measures every projection's lag now (rather than at the next refresh) and returns the status. */
  async refreshStatus(): Promise<readonly ProjectionStatus[]> {
    await Promise.all([...this.#workers.values()].flat().map((w) => w.refresh()));
    return this.status();
  }

  /**
   * Resolves once the projection (every projection when `name` is omitted) has applied every event
   * stored when it was called, whichever runner applies it. Rejects with `ProjectionFailed` when the
   * projection fails on this runner. "Stored" is what the runner's `stats` count: by default the
   * store's own (`logStats`; PostgreSQL counts every committed event, also those readers do not see
   * yet behind another session's open transaction), else what `readAll` returns.
   */
  async waitUntilCaughtUp(name?: string, options: { readonly signal?: AbortSignal } = {}): Promise<void> {
    const names = name === undefined ? [...this.#projections.keys()] : [this.#projection(name).name];
    await Promise.all(names.map((n) => this.#waitCaughtUp(n, options.signal)));
  }

  /**
   * Restarts a projection that failed (or was stopped by a rebuild that failed), from its checkpoint.
   */
  async restart(name: string): Promise<void> {
    const workers = this.#workersOf(name);
    await Promise.all(workers.map((w) => w.stop()));
    for (const worker of workers) worker.start();
  }

  /**
   * Pauses a projection on every runner that shares this runner's {@link control}: here at once
   * (resolves once the batch being applied has committed with its checkpoint and the lease is let
   * go), on the others within their poll interval (a third of `leaseTtlMs`). A paused projection
   * holds no lease, applies nothing and reports `paused`, across restarts, until {@link resume};
   * `waitUntilCaughtUp` waits meanwhile.
   */
  async pause(name: string): Promise<void> {
    const workers = this.#workersOf(name);
    await this.control.pause(name);
    for (const worker of workers) worker.setPaused(true);
    await Promise.all(workers.map((w) => w.waitUntilPaused()));
  }

  /** Resumes a paused projection: a runner takes it again and continues from its checkpoint. */
  async resume(name: string): Promise<void> {
    const workers = this.#workersOf(name);
    await this.control.resume(name);
    for (const worker of workers) worker.setPaused(false);
  }

  /**
   * Rebuilds a projection: pauses it (the current batch commits), runs its reset hook and moves its
   * checkpoints to zero (in one transaction when the runner has one), then replays the whole log into
   * it, reporting progress. Resolves once it has caught up with the log (appends made meanwhile
   * included); it then keeps running live if the runner is started, or stops if not.
   *
   * Refused when the projection has no reset hook, when it is paused (resume it first), or (with
   * leases) when another runner holds it: rebuild it there, or stop that runner first.
   */
  async rebuild(name: string, options: RebuildOptions = {}): Promise<RebuildResult> {
    const projection = this.#projection(name);
    if (!projection.resettable) {
      throw new ProjectionDefinitionInvalid(name, 'it has no reset hook, so it cannot be rebuilt.');
    }
    if (this.#rebuilding.has(name)) {
      throw new InvalidArgument(`Projection ${name} is already being rebuilt on this runner.`);
    }
    if (await this.control.isPaused(name)) {
      throw new InvalidArgument(`Projection ${name} is paused; resume it before rebuilding it.`);
    }
    this.#rebuilding.add(name);
    const startedAt = Date.now();
    const workers = this.#workersOf(name);
    try {
      await Promise.all(workers.map((w) => w.stop()));
      try {
        await this.#reset(projection, workers);
      } catch (error) {
        if (this.#started) for (const worker of workers) worker.start();
        throw error;
      }
      const total = (await this.#stats.pending({ afterPosition: 0n, filter: projectionFilter(projection) }))
        .count;
      const tracker = new RebuildProgressTracker(name, total, startedAt, options.onProgress);
      for (const worker of workers) {
        worker.setRebuild(tracker);
        worker.start();
      }
      try {
        // Catch up with the head as of now, then with the head as of reaching it: appends made during
        // the replay are included, and the projection goes on live afterwards.
        for (let round = 0; round < 2; round++) {
          const pending = await this.#waitCaughtUp(name, options.signal);
          tracker.grow(pending);
        }
      } finally {
        for (const worker of workers) worker.setRebuild(undefined);
        if (!this.#started) await Promise.all(workers.map((w) => w.stop()));
      }
      return { projection: name, events: tracker.done, elapsedMs: Date.now() - startedAt };
    } finally {
      this.#rebuilding.delete(name);
    }
  }

  async #reset(
    projection: Projection<TContext>,
    workers: readonly ProjectionWorker<TContext, TTransaction>[],
  ): Promise<void> {
    const { leases, transaction } = this.#options;
    const context = this.#options.context ?? ((tx: TTransaction | undefined) => ({ tx }) as TContext);
    const held: string[] = [];
    try {
      if (leases !== undefined) {
        for (const worker of workers) {
          if (!(await leases.acquire(worker.key, this.owner, this.#leaseTtlMs))) {
            const holder = (await leases.get(worker.key))?.owner ?? 'another runner';
            throw new LeaseLost(
              worker.key,
              this.owner,
              `it is held by ${holder}; rebuild it on that runner, or stop that runner first.`,
            );
          }
          held.push(worker.key);
        }
      }
      const expected = await Promise.all(workers.map((w) => this.#checkpoints.load(w.key)));
      const resetAll = async (tx: TTransaction | undefined) => {
        await projection.reset(context(tx));
        for (const [i, worker] of workers.entries()) {
          await this.#checkpoints.save(worker.key, 0n, {
            expected: expected[i],
            owner: this.owner,
            ...(tx === undefined ? {} : { transaction: tx }),
          });
        }
      };
      if (transaction === undefined) await resetAll(undefined);
      else await transaction((tx) => resetAll(tx));
      for (const worker of workers) worker.resetPosition();
    } finally {
      // Workers claim their leases again when they start (same owner); a shard assigned to another
      // runner is released so that runner takes it at once.
      if (leases !== undefined) {
        const undesired = held.filter((key) => !workers.find((w) => w.key === key)?.desired);
        await Promise.all(undesired.map((key) => leases.release(key, this.owner)));
      }
    }
  }

  /** Waits for the head of the projection's events as of now; returns what was pending then. */
  async #waitCaughtUp(name: string, signal: AbortSignal | undefined): Promise<number> {
    const projection = this.#projection(name);
    const workers = this.#workersOf(name);
    let from = workers[0]!.status().position;
    for (const worker of workers) {
      const position = worker.status().position;
      if (position < from) from = position;
    }
    const pending = await this.#stats.pending({
      afterPosition: from,
      filter: projectionFilter(projection),
    });
    const target = pending.lastPosition;
    if (target !== undefined) await Promise.all(workers.map((w) => w.waitForPosition(target, signal)));
    return pending.count;
  }

  #projection(name: string): Projection<TContext> {
    const projection = this.#projections.get(name);
    if (projection === undefined) {
      throw new InvalidArgument(
        `This runner has no projection named ${name}; it runs ${[...this.#projections.keys()].join(', ')}.`,
      );
    }
    return projection;
  }

  #workersOf(name: string): ProjectionWorker<TContext, TTransaction>[] {
    this.#projection(name);
    return this.#workers.get(name)!;
  }
}

/**
 * Refuses at construction a key the lease and checkpoint stores would refuse later (see
 * `assertStoreKey`), with {@link ProjectionDefinitionInvalid} naming it.
 */
function assertRunnerKey(projection: string | undefined, what: string, key: string): void {
  const problem = storeKeyProblem(key);
  if (problem === undefined) return;
  throw new ProjectionDefinitionInvalid(
    projection,
    `${what} must be a non-empty string of well-formed text without the NUL character, of at most ${MAX_KEY_BYTES} UTF-8 bytes (MAX_KEY_BYTES); ${problem}.`,
  );
}
