import { InvalidArgument } from '@annals/core';
import { StoreUnavailable } from '../errors/postgres-errors.js';

/** Longest wait between two reads of a subscription waiting out an outage, in milliseconds. */
export const OUTAGE_RETRY_MAX_MS = 250;

/**
 * What a live subscription reports about the database (see {@link SubscriptionOutageOptions.onHealth}):
 * `'unavailable'` from its first read that failed for a lost or refused connection, `'live'` again at
 * its first read that worked after that.
 */
export interface SubscriptionHealth {
  readonly status: 'live' | 'unavailable';
  /** Since when the subscription is in this status. */
  readonly since: Date;
  /** With `'unavailable'`: the first failure of the outage (its `cause` is the driver's error). */
  readonly error?: StoreUnavailable;
}

/**
 * What live subscriptions do while the database cannot be reached. By default they wait out an outage
 * of any length: each read that fails for a lost or refused connection is tried again, waiting twice
 * as long each time up to 250 ms, so a subscription resumes within a quarter of a second of the server
 * accepting connections, and delivers every event once, in order.
 */
export interface SubscriptionOutageOptions {
  /**
   * End a subscription with `StoreUnavailable` (its `cause` the last driver error) once its reads
   * have failed for this long without a read that worked. Default: no limit.
   */
  readonly maxUnavailableMs?: number;
  /** Called when a subscription becomes `'unavailable'` and when it is `'live'` again. Must not throw. */
  readonly onHealth?: (health: SubscriptionHealth) => void;
}

/** Checks {@link SubscriptionOutageOptions}. */
export function toOutageSettings(options: SubscriptionOutageOptions | undefined): SubscriptionOutageOptions {
  const max = options?.maxUnavailableMs;
  if (max !== undefined && !(typeof max === 'number' && max >= 0 && !Number.isNaN(max))) {
    throw new InvalidArgument(
      `subscriptions.maxUnavailableMs must be a number >= 0 (milliseconds), found ${String(max)}.`,
    );
  }
  const onHealth = options?.onHealth;
  if (onHealth !== undefined && typeof onHealth !== 'function') {
    throw new InvalidArgument(`subscriptions.onHealth must be a function, found ${typeof onHealth}.`);
  }
  return {
    ...(max === undefined ? {} : { maxUnavailableMs: max }),
    ...(onHealth === undefined ? {} : { onHealth }),
  };
}

/** One subscription's view of an outage: since when its reads fail, and what it reported. */
export class SubscriptionOutage {
  readonly #options: SubscriptionOutageOptions;
  readonly #minMs: number;
  readonly #maxMs: number;
  #since: number | undefined;
  #failures = 0;

  /** `polling`: the store's idle polling, whose bounds also bound the waits between retries. */
  constructor(
    options: SubscriptionOutageOptions,
    polling: { readonly minMs: number; readonly maxMs: number },
  ) {
    this.#options = options;
    this.#maxMs = Math.min(OUTAGE_RETRY_MAX_MS, polling.maxMs);
    this.#minMs = Math.min(polling.minMs, this.#maxMs);
  }

  /** Consecutive failed reads (0 while live). */
  get failures(): number {
    return this.#failures;
  }

  /**
   * How long to wait before the next read, while failing: doubling from the polling's `minMs`, at most
   * its `maxMs` and never more than 250 ms.
   */
  retryDelayMs(): number {
    return Math.min(this.#maxMs, this.#minMs * 2 ** Math.min(this.#failures - 1, 20));
  }

  /** A read worked. */
  succeeded(): void {
    if (this.#since === undefined) return;
    this.#since = undefined;
    this.#failures = 0;
    this.#report({ status: 'live', since: new Date() });
  }

  /**
   * A read failed for a lost or refused connection: returns normally to try again, or throws
   * `StoreUnavailable` once `maxUnavailableMs` has passed.
   */
  failed(error: unknown): void {
    const now = Date.now();
    this.#failures++;
    if (this.#since === undefined) {
      this.#since = now;
      this.#report({
        status: 'unavailable',
        since: new Date(now),
        error: error instanceof StoreUnavailable ? error : new StoreUnavailable('a subscription read', error),
      });
    }
    const max = this.#options.maxUnavailableMs;
    if (max !== undefined && now - this.#since >= max) {
      throw new StoreUnavailable(
        `a live subscription, unavailable for ${now - this.#since} ms (maxUnavailableMs: ${max})`,
        error instanceof StoreUnavailable ? error.cause : error,
        {
          hint: 'Subscribe again from the position of the last event you processed once the database is back.',
        },
      );
    }
  }

  #report(health: SubscriptionHealth): void {
    try {
      this.#options.onHealth?.(health);
    } catch {
      // A throwing listener must not end the subscription.
    }
  }
}
