import type { FailedEventInfo } from './projection-errors.js';

/**
 * Where a projection (or shard) stands on this runner:
 * - `catching-up`: applying the history since its checkpoint;
 * - `running`: caught up, applying live events;
 * - `rebuilding`: replaying from zero after `rebuild()`;
 * - `standby`: another runner holds its lease (or the shard is assigned elsewhere); it takes over
 *   when that lease expires;
 * - `paused`: the projection is paused (`runner.pause()`, `annals projections pause`) on every
 *   runner: this one holds no lease on it and applies nothing until it is resumed;
 * - `stopped`: not started, or stopped;
 * - `failed`: a batch kept failing; see `lastError`. Restart it with `runner.restart(name)`.
 */
export type ProjectionState =
  | 'catching-up'
  | 'running'
  | 'rebuilding'
  | 'standby'
  | 'paused'
  | 'stopped'
  | 'failed';

/** The last error a projection met (kept after it recovered, until a newer one). */
export interface ProjectionErrorInfo {
  /** `name: message` of the error. */
  readonly message: string;
  /**
   * The event the handler failed on; undefined when reading or committing failed, or when a batch
   * handler failed on a batch (the event is known once the batch is applied event by event).
   */
  readonly event: FailedEventInfo | undefined;
  /** Attempts so far for this event, or batch (1 for the first failure). */
  readonly attempts: number;
  readonly at: Date;
  /** The error itself. */
  readonly error: unknown;
}

/** A snapshot of one projection (or shard), from `runner.status()`. */
export interface ProjectionStatus {
  /** The projection name. */
  readonly name: string;
  /** The checkpoint and lease key: the name, or `name[i/n]` for shard i of n. */
  readonly key: string;
  /** The shard, when the projection is sharded. */
  readonly shard: { readonly index: number; readonly count: number } | undefined;
  readonly state: ProjectionState;
  /** The checkpoint: position of the last event whose effects are stored (0n: none yet). */
  readonly position: bigint;
  /**
   * How far behind the log it is: matching events after the checkpoint, and the age of the oldest of
   * them in milliseconds (0 when none). Measured when the projection starts and every
   * `statusRefreshMs`, and counted down as batches commit; `runner.refreshStatus()` measures now.
   * For a shard, `events` counts the events of every shard after its checkpoint.
   */
  readonly lag: { readonly events: number; readonly ms: number };
  readonly lastError: ProjectionErrorInfo | undefined;
  /** Events this runner recorded as dead letters and skipped, since it started. */
  readonly deadLettered: number;
  /** This runner's owner id. */
  readonly owner: string;
}

/** Rebuild progress, reported after every batch. */
export interface RebuildProgress {
  readonly projection: string;
  /** Events applied since the rebuild began. */
  readonly done: number;
  /** Events to apply in all (grows when the application appends during the rebuild). */
  readonly total: number;
  /** Events per second so far. */
  readonly rate: number;
  /** Estimated milliseconds left, at the current rate. */
  readonly etaMs: number;
  readonly elapsedMs: number;
}
