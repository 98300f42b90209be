import { isAppendConditionFailed } from '../../dcb/append-condition.js';
import { hasErrorCode } from '../../errors/annals-error.js';
import { InvalidArgument, isConcurrencyConflict } from '../../errors/store-errors.js';
import { type BackoffOptions, backoffDelay, resolveBackoff } from '../../retry/backoff.js';
import type { CommandExecution, CommandMiddleware } from '../command-bus.js';
import { promiseOf } from '../promise-of.js';

/**
 * Options of {@link retryOnConcurrency}. The delays between attempts are a {@link BackoffOptions}:
 * default `{ initialDelayMs: 10, maxDelayMs: 1000, factor: 2, jitter: 1 }` (full jitter, which spreads
 * writers that collided so they do not collide again).
 */
export interface RetryOnConcurrencyOptions extends BackoffOptions {
  /** Attempts in total, the first included. Default 3. */
  readonly maxAttempts?: number;
  /**
   * Which errors are retried. Default: `ConcurrencyConflict` and `AppendConditionFailed` (a decision
   * model's condition: the handler reads the query again). A `StoreUnavailable` never is, whatever
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
 * Re-runs the rest of the pipeline (and so the handler, which loads the aggregate or builds its
 * decision model again) when it fails with a `ConcurrencyConflict` or an `AppendConditionFailed`, waiting a bounded, jittered, exponentially growing delay in between.
 * When the last attempt fails, its error reaches the caller unchanged. Other errors are not retried,
 * and `StoreUnavailable` never is (`Repository.save` retries that append with the same event ids).
 *
 * @example
 * ```ts
 * bus.use(retryOnConcurrency({ maxAttempts: 5, initialDelayMs: 5, maxDelayMs: 200, jitter: 1 }));
 * ```
 */
export function retryOnConcurrency(options: RetryOnConcurrencyOptions = {}): CommandMiddleware {
  const maxAttempts = options.maxAttempts ?? 3;
  if (!Number.isSafeInteger(maxAttempts) || maxAttempts < 1) {
    throw new InvalidArgument(
      `retryOnConcurrency: maxAttempts must be an integer >= 1, found ${String(maxAttempts)}.`,
    );
  }
  const backoff = resolveBackoff(options, RETRY_BACKOFF, 'retryOnConcurrency: options');
  const isRetryable = options.isRetryable ?? isConflict;
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const policy: RetryPolicy = {
    maxAttempts,
    backoff,
    isRetryable,
    random,
    sleep,
    options,
  };
  return (execution, next) => attempt(policy, execution, next, 1);
}

/** The default of {@link RetryOnConcurrencyOptions.isRetryable}: a stale aggregate or decision. */
function isConflict(error: unknown): boolean {
  return isConcurrencyConflict(error) || isAppendConditionFailed(error);
}

/** The backoff of {@link retryOnConcurrency} where its options set none. */
const RETRY_BACKOFF: Required<BackoffOptions> = Object.freeze({
  initialDelayMs: 10,
  maxDelayMs: 1000,
  factor: 2,
  jitter: 1,
});

interface RetryPolicy {
  readonly maxAttempts: number;
  readonly backoff: Required<BackoffOptions>;
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
    const delayMs = backoffDelay(n, policy.backoff, policy.random);
    policy.options.onRetry?.({ execution, attempt: n, delayMs, error });
    await policy.sleep(delayMs);
    return attempt(policy, execution, next, n + 1);
  });
}
