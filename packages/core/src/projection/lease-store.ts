import { InvalidArgument } from '../errors/store-errors.js';
import { assertStoreKey } from '../store/store-key.js';

/** A lease: who owns a key (a projection, a shard, a runner's membership) and until when. */
export interface Lease {
  readonly key: string;
  readonly owner: string;
  /** After this instant another owner may take the key. */
  readonly expiresAt: Date;
  /** When the owner last acquired or renewed it. */
  readonly heartbeatAt: Date;
}

/**
 * Exclusive, expiring ownership of a key, so that each projection (or shard) runs on one runner at a
 * time across processes. The owner renews (heartbeats) well within the time-to-live; a runner that
 * dies stops renewing and another takes over after the expiry, from the checkpoint.
 *
 * A lease alone cannot stop a paused process from writing after its lease expired; the checkpoint's
 * compare-and-swap (on the previous position and the owner) is what rejects such a late batch.
 *
 * Implementations: {@link InMemoryLeaseStore}; on Postgres, `PostgresLeaseStore` (a row per key,
 * claimed with row locks inside one transaction: no session-level advisory locks, so it works behind
 * connection poolers).
 */
export interface LeaseStore {
  /**
   * Takes `key` for `owner` for `ttlMs` when it is free, expired, or already held by `owner` (which
   * renews it). Resolves true when `owner` holds it now.
   */
  acquire(key: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Extends a lease `owner` still holds. Resolves false when another owner holds it, or nobody does. */
  renew(key: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Gives the key up at once (no-op unless `owner` holds it), so another runner need not wait for the expiry. */
  release(key: string, owner: string): Promise<void>;
  /** The unexpired leases whose key starts with `prefix`, in key order. */
  list(prefix: string): Promise<readonly Lease[]>;
  /** The unexpired lease on `key`, if any. */
  get(key: string): Promise<Lease | undefined>;
}

/**
 * Checks the arguments of `acquire` and `renew`: a key and an owner (see {@link assertLeaseKeyAndOwner})
 * and a positive time-to-live. Adapters reuse it so they refuse the same input with `InvalidArgument`.
 */
export function assertLeaseArgs(key: string, owner: string, ttlMs: number): void {
  assertLeaseKeyAndOwner(key, owner);
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) {
    throw new InvalidArgument(
      `A lease time-to-live must be a positive number of milliseconds, found ${String(ttlMs)}.`,
    );
  }
}

/**
 * Checks a lease key and owner with `assertStoreKey`: each a non-empty string of well-formed text
 * without the NUL character, of at most `MAX_KEY_BYTES` UTF-8 bytes, so no two of them become one
 * in a database. Every lease store calls it (or {@link assertLeaseArgs}) in every method taking them.
 */
export function assertLeaseKeyAndOwner(key: string, owner: string): void {
  assertStoreKey('lease key', key);
  assertStoreKey('lease owner', owner);
}

/** Checks the prefix of `LeaseStore.list`: as a lease key (see `assertStoreKey`), but it may be empty. */
export function assertLeasePrefix(prefix: string): void {
  assertStoreKey('lease prefix', prefix, { allowEmpty: true });
}
