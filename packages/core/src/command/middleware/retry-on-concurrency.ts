import { hasErrorCode } from '../../errors/annals-error.js';
import { InvalidArgument, isConcurrencyConflict } from '../../errors/store-errors.js';
import { backoffDelay } from '../../retry/backoff.js';
import type { CommandExecution, CommandMiddleware } from '../command-bus.js';
import { promiseOf } from '../promise-of.js';

/** Options of {@link retryOnConcurrency}. */
export interface RetryOnConcurrencyOptions {
  /** Attempts in total, the first included. Default 3. */
  readonly maxAttempts?: number;
  /** Delay ceiling before the first retry, doubled for each further retry. Default 10 ms. */
  readonly baseDelayMs?: number;
  /** No delay is longer than this. Default 1000 ms. */
  readonly maxDelayMs?: number;
  /**
   * The share of each delay that is random, from 0 (none: exact exponential backoff) to 1 (full
   * jitter: anywhere from 0 to the ceiling). `true` is 1, `false` is 0. Default 1, which spreads
   * writers that collided so they do not collide again.
   */
  readonly jitter?: number | boolean;
  /**
   * Which errors are retried. Default: `ConcurrencyConflict` only. A `StoreUnavailable` never is, whatever
   * this says: the append may have committed, and re-running the handler would raise new events with
   * new ids. `Repository.save` retries such an append itself, with the same ids.
   */
  readonly isRetryable?: (error: unknown) => boolean;
  /** Called before each retry (for logs and metrics). */
  readonly onRetry?: (info: {
    readonly execution: CommandExecution;
    readonly attempt: number;
    readonly delayMs: number;
    readonly error: unknown;
  }) => void;
  /** Source of randomness in [0, 1). Default `Math.random`. */
  readonly random?: () => number;
  /** Waits `ms` milliseconds. Default a timer. */
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * Re-runs the rest of the pipeline (and so the handler, which loads the aggregate again) when it fails
 * with a `ConcurrencyConflict`, waiting a bounded, jittered, exponentially growing delay in between.
 * When the last attempt fails, its error reaches the caller unchanged. Other errors are not retried,
 * and `StoreUnavailable` never is (`Repository.save` retries that append with the same event ids).
 *
 * @example
 * ```ts
 * bus.use(retryOnConcurrency({ maxAttempts: 5, baseDelayMs: 5, maxDelayMs: 200, jitter: 1 }));
 * ```
 */
export function retryOnConcurrency(options: RetryOnConcurrencyOptions = {}): CommandMiddleware {
  const maxAttempts = options.maxAttempts ?? 3;
  const baseDelayMs = options.baseDelayMs ?? 10;
  const maxDelayMs = options.maxDelayMs ?? 1000;
  const jitter = options.jitter === true ? 1 : options.jitter === false ? 0 : (options.jitter ?? 1);
  if (!Number.isSafeInteger(maxAttempts) || maxAttempts < 1) {
    throw new InvalidArgument(
      `retryOnConcurrency: maxAttempts must be an integer >= 1, found ${String(maxAttempts)}.`,
    );
  }
  for (const [name, value] of [
    ['baseDelayMs', baseDelayMs],
    ['maxDelayMs', maxDelayMs],
  ] as const) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new InvalidArgument(
        `retryOnConcurrency: ${name} must be a finite number >= 0, found ${String(value)}.`,
      );
    }
  }
  if (typeof jitter !== 'number' || !(jitter >= 0 && jitter <= 1)) {
    throw new InvalidArgument(`retryOnConcurrency: jitter must be between 0 and 1, found ${String(jitter)}.`);
  }
  const isRetryable = options.isRetryable ?? isConcurrencyConflict;
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const policy: RetryPolicy = {
    maxAttempts,
    baseDelayMs,
    maxDelayMs,
    jitter,
    isRetryable,
    random,
    sleep,
    options,
  };
  return (execution, next) => attempt(policy, execution, next, 1);
}

interface RetryPolicy {
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly jitter: number;
  readonly isRetryable: (error: unknown) => boolean;
  readonly random: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly options: RetryOnConcurrencyOptions;
}

/** Runs attempt number `n`; `then` rather than `await`: a command that succeeds at once costs one promise here. */
function attempt(
  policy: RetryPolicy,
  execution: CommandExecution,
  next: () => Promise<unknown>,
  n: number,
): Promise<unknown> {
  return promiseOf(next).catch(async (error: unknown) => {
    // Never re-run a command after StoreUnavailable: the append may have committed, and a re-run
    // would raise new events with new ids (a duplicate). Repository.save retries that append itself,
    // with the same ids; what still fails reaches the caller.
    if (n >= policy.maxAttempts || hasErrorCode(error, 'STORE_UNAVAILABLE') || !policy.isRetryable(error)) {
      throw error;
    }
    const delayMs = backoffDelay(n, policy, policy.random);
    policy.options.onRetry?.({ execution, attempt: n, delayMs, error });
    await policy.sleep(delayMs);
    return attempt(policy, execution, next, n + 1);
  });
}
