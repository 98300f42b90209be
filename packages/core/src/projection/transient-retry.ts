import { hasErrorCode } from '../errors/annals-error.js';
import { type BackoffOptions, backoffDelay } from '../retry/backoff.js';

/**
 * The waits between retries after a transient failure (a lost connection, a server restarting):
 * doubling from 25 ms, at most 250 ms, so a runner resumes within a quarter of a second of the
 * database accepting connections. Such retries never count as attempts of the failure policy.
 */
export const TRANSIENT_BACKOFF: Required<BackoffOptions> = Object.freeze({
  initialDelayMs: 25,
  maxDelayMs: 250,
  factor: 2,
  jitter: 0.5,
});

/** The wait before transient retry number `attempt` (1 for the first). */
export function transientDelay(attempt: number): number {
  return backoffDelay(attempt, TRANSIENT_BACKOFF);
}

/**
 * `isTransient` (the runner's, then the projection's), widened to every `StoreUnavailable` (code
 * `STORE_UNAVAILABLE`) of any adapter.
 */
export function isUnavailableOr(
  isTransient: ((error: unknown) => boolean) | undefined,
  isTransientForProjection?: (error: unknown) => boolean,
): (error: unknown) => boolean {
  return (error) =>
    hasErrorCode(error, 'STORE_UNAVAILABLE') ||
    (isTransient?.(error) ?? false) ||
    (isTransientForProjection?.(error) ?? false);
}

/** Log the first transient failure of a run, then one in twenty: an outage must not flood the log. */
export function worthLogging(failuresInARow: number): boolean {
  return failuresInARow === 1 || failuresInARow % 20 === 0;
}
