import { isAnnalsError } from '../errors/annals-error.js';
import { isConcurrencyConflict } from '../errors/store-errors.js';
import type { Outcome } from './names.js';

/** `conflict` for a `ConcurrencyConflict`, `error` for anything else. */
export function failureOutcome(error: unknown): Outcome {
  return isConcurrencyConflict(error) ? 'conflict' : 'error';
}

/** The `error.type` attribute of a failure: an Annals error's code, else the error's class name. */
export function errorType(error: unknown): string {
  if (isAnnalsError(error)) return error.code;
  const name = (error as { constructor?: { name?: unknown } } | null)?.constructor?.name;
  return typeof name === 'string' && name.length > 0 ? name : '_OTHER';
}
