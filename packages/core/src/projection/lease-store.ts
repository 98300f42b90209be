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
