import { StoreUnavailable } from '../errors/postgres-errors.js';
import { isTransientError } from './database-errors.js';

/** `error` as `StoreUnavailable` when the connection died or could not be made (or the server refused the work for now); otherwise unchanged. */
export function toUnavailable(operation: string, error: unknown): unknown {
  if (error instanceof StoreUnavailable) return error;
  return isTransientError(error) ? new StoreUnavailable(operation, error) : error;
}

/** Runs `work`, rethrowing a lost or refused connection as `StoreUnavailable` (the driver's error its cause). */
export async function orUnavailable<T>(operation: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw toUnavailable(operation, error);
  }
}
