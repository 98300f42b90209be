import { type BackoffOptions, resolveBackoff } from '../retry/backoff.js';
import { ProjectionDefinitionInvalid } from './projection-errors.js';

/**
 * What a projection does when a batch keeps failing.
 *
 * Retries wait `initialDelayMs * factor^(attempt-1)` capped at `maxDelayMs`, with jitter (by default a
 * random point in the upper half of that delay) so nodes that failed together do not retry together.
 * After `retries` retries:
 * - `'stop'` (default): the projection stops with state `failed`, its error and the failed event in
 *   `status()`; its checkpoint stays just before that event. Other projections keep running.
 * - `'dead-letter'`: the event is recorded in the runner's dead-letter store, in the same transaction
 *   that moves the checkpoint past it, and the projection goes on. Opt-in: nothing is ever skipped
 *   without a record.
 */
export interface ProjectionFailurePolicy {
  /** Retries after the first failed attempt. Default 3. */
  readonly retries?: number;
  /** Delays between attempts. Default `{ initialDelayMs: 100, maxDelayMs: 5000, factor: 2, jitter: 0.5 }`. */
  readonly backoff?: BackoffOptions;
  /** What happens once the retries are spent. Default `'stop'`. */
  readonly onExhausted?: 'stop' | 'dead-letter';
}

/** A failure policy with every default filled in. */
export interface ResolvedFailurePolicy {
  readonly retries: number;
  readonly backoff: Required<BackoffOptions>;
  readonly onExhausted: 'stop' | 'dead-letter';
}

const DEFAULT_RETRIES = 3;

/** The policy of projection `name` with every default filled in; refuses a value outside the contract. */
export function resolveFailurePolicy(
  name: string,
  policy: ProjectionFailurePolicy | undefined,
): ResolvedFailurePolicy {
  const retries = policy?.retries ?? DEFAULT_RETRIES;
  if (!Number.isSafeInteger(retries) || retries < 0) {
    throw new ProjectionDefinitionInvalid(
      name,
      `failure.retries must be an integer >= 0, found ${String(retries)}.`,
    );
  }
  const onExhausted = policy?.onExhausted ?? 'stop';
  if (onExhausted !== 'stop' && onExhausted !== 'dead-letter') {
    throw new ProjectionDefinitionInvalid(
      name,
      `failure.onExhausted must be 'stop' or 'dead-letter', found ${JSON.stringify(onExhausted)}.`,
    );
  }
  let backoff: Required<BackoffOptions>;
  try {
    backoff = resolveBackoff(policy?.backoff, FAILURE_BACKOFF, 'failure.backoff');
  } catch (error) {
    throw new ProjectionDefinitionInvalid(name, (error as Error).message);
  }
  return Object.freeze({ retries, backoff, onExhausted });
}

/** The backoff of a failure policy that sets none. */
const FAILURE_BACKOFF: Required<BackoffOptions> = Object.freeze({
  initialDelayMs: 100,
  maxDelayMs: 5000,
  factor: 2,
  jitter: 0.5,
});
