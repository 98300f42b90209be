import { assertStoreKey } from '../store/store-key.js';

/** A paused projection, as {@link ProjectionControl.listPaused} reports it. */
export interface PausedProjection {
  /** The projection name (every shard of it is paused). */
  readonly name: string;
  /** When it was paused. */
  readonly pausedAt: Date;
}

/**
 * Where projections are paused and resumed, shared by every runner (every node) that runs them. A
 * paused projection stays paused until resumed, across restarts: each runner sees the pause within
 * a poll interval (a third of its `leaseTtlMs`), lets the batch in progress commit with its
 * checkpoint, releases the projection's leases and applies nothing more; once resumed, a runner
 * takes it again and continues from its checkpoint.
 *
 * Implementations: {@link InMemoryProjectionControl} (runners of one process sharing one instance);
 * on Postgres `PostgresProjectionControl` (the `projection_pauses` table).
 *
 * @example
 * ```ts
 * const control = new InMemoryProjectionControl();
 * await control.pause('balances');
 * await control.isPaused('balances'); // true
 * await control.resume('balances');
 * ```
 */
export interface ProjectionControl {
  /** Pauses the projection `name` (no-op when it is paused already; the first `pausedAt` stays). */
  pause(name: string): Promise<void>;
  /** Resumes the projection `name` (no-op when it is not paused). */
  resume(name: string): Promise<void>;
  /** Whether the projection `name` is paused now. */
  isPaused(name: string): Promise<boolean>;
  /** Every paused projection, in name order. */
  listPaused(): Promise<readonly PausedProjection[]>;
}

/**
 * Checks a projection name given to a {@link ProjectionControl} with `assertStoreKey`: a non-empty
 * string of well-formed text without the NUL character, of at most `MAX_KEY_BYTES` UTF-8 bytes.
 * Every implementation calls it, so they refuse the same names with `InvalidArgument`.
 */
export function assertPausedName(name: unknown): asserts name is string {
  assertStoreKey('paused projection name', name);
}
