import type { RecordedEvent } from '../../events/event-types.js';
import type { EventFilter } from '../../store/event-store.js';
import type { EventLogStats } from '../event-log-stats.js';

/**
 * Measures how far a projection key is behind the log: matching events after its position and the
 * age of the oldest, measured (a count over the log) now and then and counted down as batches commit;
 * and, while catching up, the head it catches up to.
 */
export class LagMeter {
  readonly #stats: EventLogStats;
  readonly #filter: EventFilter;
  /** The position the lag is measured from. */
  readonly #position: () => bigint;
  #events = 0;
  #oldestPendingAt: Date | undefined;
  /** The head as of the start of a catch-up: reaching it means caught up. */
  #catchUpTarget: bigint | undefined;
  /** The measurement in flight, if any. */
  #measuring: Promise<void> | undefined;
  /** When the lag was last measured (epoch ms). */
  #measuredAt = 0;

  /** Called after each measurement and count-down (the lag metrics). */
  readonly #changed: () => void;

  constructor(
    stats: EventLogStats,
    filter: EventFilter,
    position: () => bigint,
    changed: () => void = () => {},
  ) {
    this.#changed = changed;
    this.#stats = stats;
    this.#filter = filter;
    this.#position = position;
  }

  /** The lag as `status()` shows it. */
  lag(): { readonly events: number; readonly ms: number } {
    return {
      events: this.#events,
      ms:
        this.#events > 0 && this.#oldestPendingAt !== undefined
          ? Math.max(0, Date.now() - this.#oldestPendingAt.getTime())
          : 0,
    };
  }

  /** Whether the last measurement is at least `refreshMs` old. */
  due(refreshMs: number): boolean {
    return Date.now() - this.#measuredAt >= refreshMs;
  }

  /** {@link measure}, unless a measurement is running already: then that one. */
  measureOnce(): Promise<void> {
    this.#measuring ??= this.measure().finally(() => {
      this.#measuring = undefined;
    });
    return this.#measuring;
  }

  /** Counts the pending events now; with `setTarget`, the head becomes the catch-up target. */
  async measure(setTarget = false): Promise<void> {
    this.#measuredAt = Date.now();
    const pending = await this.#stats.pending({ afterPosition: this.#position(), filter: this.#filter });
    this.#events = pending.count;
    this.#oldestPendingAt = pending.oldestRecordedAt;
    if (setTarget) this.#catchUpTarget = pending.lastPosition;
    this.#changed();
  }

  /** Forgets the catch-up target (a new catch-up, or a rebuild, begins). */
  clearTarget(): void {
    this.#catchUpTarget = undefined;
  }

  /** Whether `position` reached the catch-up target (true without one). */
  caughtUp(position: bigint): boolean {
    return this.#catchUpTarget === undefined || position >= this.#catchUpTarget;
  }

  /** A commit covered `seen` events up to `last`: they no longer count. */
  countDown(seen: number, last: RecordedEvent): void {
    this.#events = Math.max(0, this.#events - seen);
    if (this.#events > 0) this.#oldestPendingAt = last.recordedAt;
    this.#changed();
  }
}
