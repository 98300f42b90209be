import { hasErrorCode } from '../errors/annals-error.js';
import type { NewEvent } from '../events/event-types.js';
import { uuidv7 } from '../events/uuid.js';
import type { AppendOptions, AppendResult, EventStore } from '../store/event-store.js';

/** Attempts in total of an append that keeps failing with `StoreUnavailable`, the first included. */
export const UNAVAILABLE_APPEND_ATTEMPTS = 5;
/** The wait before the first retry; doubled before each further one (100, 200, 400, 800 ms). */
const FIRST_DELAY_MS = 100;

/**
 * Appends `events`, and when the store answers `StoreUnavailable` (the connection died, perhaps at
 * the commit), appends the very same events again, with the same ids, a few times with growing
 * waits. A batch that did commit is then found by its ids and its first result returned: nothing is
 * written twice and a committed append is never reported as failed. Events without an id get one
 * first, so every attempt carries the same ids. The last `StoreUnavailable` reaches the caller.
 */
export async function appendRetryingUnavailable(
  store: EventStore,
  streamId: string,
  events: readonly NewEvent[],
  options: AppendOptions,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
): Promise<AppendResult> {
  const withIds = events.some((e) => e.id === undefined)
    ? events.map((e) => (e.id === undefined ? Object.freeze({ ...e, id: uuidv7() }) : e))
    : events;
  for (let attempt = 1; ; attempt++) {
    try {
      return await store.append(streamId, withIds, options);
    } catch (error) {
      if (attempt >= UNAVAILABLE_APPEND_ATTEMPTS || !hasErrorCode(error, 'STORE_UNAVAILABLE')) throw error;
      await sleep(FIRST_DELAY_MS * 2 ** (attempt - 1));
    }
  }
}
