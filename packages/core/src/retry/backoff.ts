/**
 * How the delays between retries grow: a ceiling of `baseDelayMs * factor^(n-1)` before retry n,
 * capped at `maxDelayMs`, of which the `jitter` share is random.
 */
export interface BackoffSchedule {
  /** Delay ceiling before the first retry, in milliseconds. */
  readonly baseDelayMs: number;
  /** No delay is longer than this, in milliseconds. */
  readonly maxDelayMs: number;
  /** Growth of the ceiling per retry. Default 2. */
  readonly factor?: number;
  /**
   * The share of each delay that is random, from 0 (none: exact exponential backoff) to 1 (anywhere
   * from 0 to the ceiling).
   */
  readonly jitter: number;
}

/**
 * The delay before retry number `attempt` (1 for the first retry): a ceiling of
 * `min(maxDelayMs, baseDelayMs * factor^(attempt-1))`, of which the `jitter` share is random, so the
 * delay lies in `[ceiling * (1 - jitter), ceiling]` (`random` 0 gives the ceiling). `random` is
 * injectable for tests.
 *
 * @example
 * ```ts
 * backoffDelay(3, { baseDelayMs: 10, maxDelayMs: 100, jitter: 0 }); // 40
 * ```
 */
export function backoffDelay(
  attempt: number,
  schedule: BackoffSchedule,
  random: () => number = Math.random,
): number {
  const exponential = schedule.baseDelayMs * (schedule.factor ?? 2) ** Math.max(0, attempt - 1);
  const ceiling = Math.min(schedule.maxDelayMs, exponential);
  return ceiling * (1 - schedule.jitter * random());
}
