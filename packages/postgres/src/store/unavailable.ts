import { StoreClosed } from '@annals/core';
import { PermissionDenied, StoreUnavailable } from '../errors/postgres-errors.js';
import { tenantMovedOf } from '../router/tenant-fence.js';
import { isClosedConnection, isPermissionDenied, isTransientError } from './database-errors.js';

/**
 * `error` as `StoreUnavailable` when the connection died or could not be made (or the server refused
 * the work for now), as `TenantMoved` when a moved tenant's old place refused a write, as
 * `PermissionDenied` when the role lacks a privilege, as `StoreClosed` when the store's connection was
 * closed (a component used after `store.close()`); otherwise unchanged.
 */
export function toUnavailable(operation: string, error: unknown): unknown {
  if (error instanceof StoreUnavailable || error instanceof PermissionDenied) return error;
  if (isClosedConnection(error)) return new StoreClosed("event store's connection");
  if (isPermissionDenied(error)) return new PermissionDenied(operation, error);
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
