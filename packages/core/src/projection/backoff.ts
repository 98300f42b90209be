import { type BackoffSchedule, backoffDelay } from '../retry/backoff.js';

/** Delays between retries of a failing projection batch. */
export interface BackoffOptions {
  /** Delay before the first retry, in milliseconds. Default 100. */
  readonly initialMs?: number;
  /** Upper bound of any delay, in milliseconds. Default 5000. */
  readonly maxMs?: number;
  /** Growth per attempt. Default 2. */
  readonly factor?: number;
  /** Pick a random delay in the upper half of the computed one. Default true. */
  readonly jitter?: boolean;
}

/** Fills in the defaults and checks the values; throws a plain Error naming the bad field. */
export function normalizeBackoff(options: BackoffOptions | undefined): Required<BackoffOptions> {
  const resolved = {
    initialMs: options?.initialMs ?? 100,
    maxMs: options?.maxMs ?? 5000,
    factor: options?.factor ?? 2,
    jitter: options?.jitter ?? true,
  };
  for (const key of ['initialMs', 'maxMs', 'factor'] as const) {
    const value = resolved[key];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new Error(`failure.backoff.${key} must be a finite number >= 0, found ${String(value)}.`);
    }
  }
  if (resolved.factor < 1) {
    throw new Error(`failure.backoff.factor must be >= 1, found ${resolved.factor}.`);
  }
  if (resolved.maxMs < resolved.initialMs) {
    throw new Error(
      `failure.backoff.maxMs (${resolved.maxMs}) must be at least initialMs (${resolved.initialMs}).`,
    );
  }
  return resolved;
}

/**
 * The delay of the failure policy before retry number `attempt` (1 for the first retry), on the
 * shared {@link backoffDelay}: exponential, capped at `maxMs`, and with jitter a uniformly random
 * value in [delay / 2, delay] (`random` 0 gives delay / 2). `random` is injectable for tests.
 */
export function failureDelay(
  attempt: number,
  options: Required<BackoffOptions>,
  random: () => number = Math.random,
): number {
  return backoffDelay(attempt, toSchedule(options), () => 1 - random());
}

/** The failure policy's options as a {@link BackoffSchedule}: jitter draws from the upper half. */
function toSchedule(options: Required<BackoffOptions>): BackoffSchedule {
  return {
    baseDelayMs: options.initialMs,
    maxDelayMs: options.maxMs,
    factor: options.factor,
    jitter: options.jitter ? 0.5 : 0,
  };
}
