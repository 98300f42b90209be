import type { EventFilter, EventStore } from '../store/event-store.js';

/** What is left for a projection to apply: the events after its checkpoint. */
export interface PendingEvents {
  /** How many events match. */
  readonly count: number;
  /** The position of the last matching event: the projection is caught up once its checkpoint reaches it. */
  readonly lastPosition: bigint | undefined;
  /** When the oldest matching event was recorded (for the lag in milliseconds). */
  readonly oldestRecordedAt: Date | undefined;
}

/**
 * Measures the log for lag, catch-up and rebuild progress. Stores that can count cheaply provide one
 * (Postgres: one aggregate query); {@link readAllLogStats} works with any store by reading.
 */
export interface EventLogStats {
  /** The events after `afterPosition` (exclusive) matching `filter`. */
  pending(options: { readonly afterPosition: bigint; readonly filter?: EventFilter }): Promise<PendingEvents>;
}

/**
 * {@link EventLogStats} for any store, by reading the matching events with `readAll`. Cost grows with
 * the pending events; fine in memory, use the adapter's own stats for large database logs.
 */
export function readAllLogStats(store: EventStore): EventLogStats {
  return {
    async pending({ afterPosition, filter }) {
      let count = 0;
      let lastPosition: bigint | undefined;
      let oldestRecordedAt: Date | undefined;
      for await (const event of store.readAll({
        fromPosition: afterPosition + 1n,
        ...(filter === undefined ? {} : { filter }),
      })) {
        count++;
        lastPosition = event.position;
        oldestRecordedAt ??= event.recordedAt;
      }
      return { count, lastPosition, oldestRecordedAt };
    },
  };
}
