import { StoreUnavailable } from '../errors/postgres-errors.js';
import { tenantMovedOf } from '../router/tenant-fence.js';
import { isTransientError } from './database-errors.js';

/**
 * `error` as `StoreUnavailable` when the connection died or could not be made (or the server refused
 * the work for now), as `TenantMoved` when a moved tenant's old place refused a write; otherwise unchanged.
 */
export function toUnavailable(operation: string, error: unknown): unknown {
  if (error instanceof StoreUnavailable) return error;
  const moved = tenantMovedOf(error);
  if (moved !== undefined) return moved;
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
