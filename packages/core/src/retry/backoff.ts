import { InvalidArgument } from '../errors/store-errors.js';

/**
 * How the delays between retries grow, the same for every retry Annals makes (commands on a
 * conflict, projection batches): a ceiling of `initialDelayMs * factor^(n-1)` before retry n, capped
 * at `maxDelayMs`, of which the `jitter` share is random. Each retry has its own defaults.
 */
export interface BackoffOptions {
  /** Delay ceiling before the first retry, in milliseconds. */
  readonly initialDelayMs?: number;
  /** No delay is longer than this, in milliseconds; at least `initialDelayMs`. */
  readonly maxDelayMs?: number;
  /** Growth of the ceiling per retry, at least 1. Default 2. */
  readonly factor?: number;
  /**
   * The share of each delay that is random, from 0 (none: exact exponential backoff) to 1 (anywhere
   * from 0 to the ceiling); 0.5 keeps each delay in the upper half of its ceiling.
   */
  readonly jitter?: number;
}

/**
 * `options` with every field set, from `defaults` where it has none, after checking each value:
 * throws `InvalidArgument` naming the field under `where` (such as `failure.backoff`), what was
 * expected and what was found.
 */
export function resolveBackoff(
  options: BackoffOptions | undefined,
  defaults: Required<BackoffOptions>,
  where: string,
): Required<BackoffOptions> {
  const resolved: Required<BackoffOptions> = {
    initialDelayMs: options?.initialDelayMs ?? defaults.initialDelayMs,
    maxDelayMs: options?.maxDelayMs ?? defaults.maxDelayMs,
    factor: options?.factor ?? defaults.factor,
    jitter: options?.jitter ?? defaults.jitter,
  };
  for (const key of ['initialDelayMs', 'maxDelayMs', 'factor', 'jitter'] as const) {
    const value = resolved[key];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new InvalidArgument(`${where}.${key} must be a finite number >= 0, found ${String(value)}.`);
    }
  }
  if (resolved.factor < 1) {
    throw new InvalidArgument(`${where}.factor must be >= 1, found ${resolved.factor}.`);
  }
  if (resolved.jitter > 1) {
    throw new InvalidArgument(`${where}.jitter must be between 0 and 1, found ${resolved.jitter}.`);
  }
  if (resolved.maxDelayMs < resolved.initialDelayMs) {
    throw new InvalidArgument(
      `${where}.maxDelayMs (${resolved.maxDelayMs}) must be at least initialDelayMs (${resolved.initialDelayMs}).`,
    );
  }
  return Object.freeze(resolved);
}

/**
 * The delay before retry number `attempt` (1 for the first retry): a ceiling of
 * `min(maxDelayMs, initialDelayMs * factor^(attempt-1))`, of which the `jitter` share is random, so
 * the delay lies in `[ceiling * (1 - jitter), ceiling]` (`random` 0 gives the ceiling). `random` is
 * injectable for tests.
 *
 * @example
 * ```ts
 * backoffDelay(3, { initialDelayMs: 10, maxDelayMs: 100, factor: 2, jitter: 0 }); // 40
 * ```
 */
export function backoffDelay(
  attempt: number,
  backoff: Required<BackoffOptions>,
  random: () => number = Math.random,
): number {
  const exponential = backoff.initialDelayMs * backoff.factor ** Math.max(0, attempt - 1);
  const ceiling = Math.min(backoff.maxDelayMs, exponential);
  return ceiling * (1 - backoff.jitter * random());
}
