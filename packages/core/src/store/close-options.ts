import { InvalidArgument } from '../errors/store-errors.js';
import type { CloseOptions } from './event-store.js';
import type { PullSubscription } from './subscription.js';

/** How long `close()` lets subscriptions hand out what was appended before it, by default (ms). */
export const DEFAULT_DRAIN_TIMEOUT_MS = 5_000;

/**
 * The drain timeout of `close(options)`: {@link DEFAULT_DRAIN_TIMEOUT_MS} when not given; anything
 * but a non-negative finite number throws `InvalidArgument`. Stores check it before closing anything.
 */
export function drainTimeoutOf(options: CloseOptions | undefined): number {
  const value = options?.drainTimeoutMs;
  if (value === undefined) return DEFAULT_DRAIN_TIMEOUT_MS;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidArgument(
      `close: drainTimeoutMs must be a number of milliseconds >= 0, found ${String(value)}.`,
    );
  }
  return value;
}

/**
 * Drains every subscription at once (see {@link PullSubscription.drain}): resolves when each has handed
 * out what was appended before, or was stopped at the timeout. What a store's `close()` runs first.
 */
export async function drainSubscriptions(
  subscriptions: Iterable<Pick<PullSubscription<unknown>, 'drain'>>,
  timeoutMs: number,
): Promise<void> {
  await Promise.all([...subscriptions].map((subscription) => subscription.drain(timeoutMs)));
}
