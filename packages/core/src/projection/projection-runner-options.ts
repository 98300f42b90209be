import { InvalidArgument } from '../errors/store-errors.js';
import type { Logger } from '../observability/logger.js';
import type { EventStore } from '../store/event-store.js';
import type { CheckpointStore } from './checkpoint-store.js';
import type { DeadLetterStore } from './dead-letter-store.js';
import type { Projection, ProjectionContext } from './define-projection.js';
import type { EventLogStats } from './event-log-stats.js';
import type { LeaseStore } from './lease-store.js';
import type { ProjectionControl } from './projection-control.js';
import type { RebuildProgress } from './projection-status.js';
import type { ProjectionTransaction } from './worker/worker-settings.js';

/** Options of {@link ProjectionRunner}. */
export interface ProjectionRunnerOptions<TContext = ProjectionContext, TTransaction = undefined> {
  /** The store whose global log the projections follow. */
  readonly store: EventStore;
  /** The projections to run; names must be unique. */
  readonly projections: readonly Projection<TContext>[];
  /**
   * Where checkpoints live. Default: an {@link InMemoryCheckpointStore} (checking `leases` when given).
   * With a `transaction`, it must join it (Postgres: `PostgresCheckpointStore`).
   */
  readonly checkpoints?: CheckpointStore<TTransaction>;
  /**
   * Leases that keep each projection (or shard) on one runner at a time across processes. Default:
   * none, for a single runner; give one whenever several runners may start the same projections.
   */
  readonly leases?: LeaseStore;
  /**
   * Where projections are paused and resumed (`runner.pause()`), read by every runner that shares
   * it. Default: an {@link InMemoryProjectionControl} of this runner's own; give runners of one
   * process the same instance, or a database one (`PostgresProjectionControl`) across processes.
   */
  readonly control?: ProjectionControl;
  /** Where `'dead-letter'` policies record skipped events. Default: in memory (required with a `transaction`). */
  readonly deadLetters?: DeadLetterStore<TTransaction>;
  /**
   * Runs one batch as a unit of work, so handlers' writes and the checkpoint commit together
   * (exactly once). Default: none; the checkpoint is then saved after every event, so a failing
   * handler never re-applies the events before it.
   */
  readonly transaction?: ProjectionTransaction<TTransaction>;
  /** Builds the context handlers receive from the batch's transaction. Default: `(tx) => ({ tx })`. */
  readonly context?: (transaction: TTransaction | undefined) => TContext;
  /**
   * Measures lag, rebuild totals and what `waitUntilCaughtUp` waits for. Default: the store's
   * `logStats()` when it has one (PostgreSQL: every committed event, one query), else
   * {@link readAllLogStats} (reads the log: counts what readers see).
   */
  readonly stats?: EventLogStats;
  /** This runner's id in leases and dead letters. Default: host, pid and a random suffix. */
  readonly owner?: string;
  /** Events per batch unless a projection says otherwise. Default 500. */
  readonly batchSize?: number;
  /** Lease time-to-live; renewed every third of it. A dead runner's projections move after about this long. Default 10,000 ms. */
  readonly leaseTtlMs?: number;
  /** How often lag is re-measured while a projection runs. Default 1000 ms. */
  readonly statusRefreshMs?: number;
  /**
   * Where the runner reports retries, dead letters, lost leases and failures (pino's shape: a pino
   * logger fits; each projection logs through `logger.child({ projection })` when it has `child`).
   * Default `consoleLogger`: warnings and errors on the console.
   */
  readonly logger?: Logger;
  /**
   * Recognises failures of the infrastructure (a lost database connection) rather than of an event:
   * they are retried with backoff for as long as they last, and never count towards the failure
   * policy (so an outage neither fails a projection nor dead-letters good events). A
   * `StoreUnavailable` (code `STORE_UNAVAILABLE`) always is, whatever this says. Default: only that;
   * `PostgresProjectionRunner` also recognises lost connections and ended backends.
   */
  readonly isTransient?: (error: unknown) => boolean;
}

/** Options of {@link ProjectionRunner.rebuild}. */
export interface RebuildOptions {
  /** Called after every batch of the replay. */
  readonly onProgress?: (progress: RebuildProgress) => void;
  /** Aborts the wait (the replay itself goes on, as the projection's normal catch-up). */
  readonly signal?: AbortSignal;
}

/** What a finished rebuild did. */
export interface RebuildResult {
  readonly projection: string;
  /** Events applied by the replay (on this runner). */
  readonly events: number;
  readonly elapsedMs: number;
}

/** `value` when it is a positive integer; else `InvalidArgument` naming the option. */
export function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new InvalidArgument(
      `ProjectionRunner option ${name} must be a positive integer, found ${String(value)}.`,
    );
  }
  return value;
}
