import { AsyncLocalStorage } from 'node:async_hooks';
import type { EventStore } from '../store/event-store.js';

/**
 * A transaction of one event store that the code running inside {@link runInStoreTransaction}
 * joins: every `Repository` on `store` reads and appends through it (the store's `transaction`
 * option), so the command's events commit with whatever else the transaction writes.
 */
export interface StoreTransactionScope {
  /** The store the transaction belongs to; a repository on another store refuses to save. */
  readonly store: EventStore;
  /** The adapter's transaction, passed as the `transaction` option of `append` and `readStream`. */
  readonly transaction: unknown;
}

const storage = new AsyncLocalStorage<StoreTransactionScope>();

/**
 * The store transaction the current async call chain runs in, or undefined. Repositories read it;
 * a transactional idempotency store (such as `PostgresIdempotencyStore`) sets it.
 */
export function currentStoreTransaction(): StoreTransactionScope | undefined {
  return storage.getStore();
}

/** Runs `fn` with `scope` as the current store transaction (see {@link currentStoreTransaction}). */
export function runInStoreTransaction<R>(scope: StoreTransactionScope, fn: () => R): R {
  return storage.run(scope, fn);
}
