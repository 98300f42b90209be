import { assertStoreKey } from '../store/store-key.js';
import {
  assertLeaseArgs,
  assertLeaseKeyAndOwner,
  assertLeasePrefix,
  type Lease,
  type LeaseStore,
} from './lease-store.js';

/** Options of {@link InMemoryLeaseStore}. */
export interface InMemoryLeaseStoreOptions {
  /** The clock, in milliseconds. Default `Date.now`; tests may pass a controllable one. */
  readonly now?: () => number;
}

/**
 * A {@link LeaseStore} in process memory, with the same semantics as the database one: for several
 * runners in one process (tests, the embedded default) sharing one instance.
 */
export class InMemoryLeaseStore implements LeaseStore {
  readonly #leases = new Map<string, { owner: string; expiresAt: number; heartbeatAt: number }>();
  readonly #now: () => number;

  constructor(options: InMemoryLeaseStoreOptions = {}) {
    this.#now = options.now ?? Date.now;
  }

  async acquire(key: string, owner: string, ttlMs: number): Promise<boolean> {
    assertLeaseArgs(key, owner, ttlMs);
    const now = this.#now();
    const current = this.#leases.get(key);
    if (current !== undefined && current.owner !== owner && current.expiresAt > now) return false;
    this.#leases.set(key, { owner, expiresAt: now + ttlMs, heartbeatAt: now });
    return true;
  }

  async renew(key: string, owner: string, ttlMs: number): Promise<boolean> {
    assertLeaseArgs(key, owner, ttlMs);
    const current = this.#leases.get(key);
    if (current === undefined || current.owner !== owner) return false;
    const now = this.#now();
    this.#leases.set(key, { owner, expiresAt: now + ttlMs, heartbeatAt: now });
    return true;
  }

  async release(key: string, owner: string): Promise<void> {
    assertLeaseKeyAndOwner(key, owner);
    if (this.#leases.get(key)?.owner === owner) this.#leases.delete(key);
  }

  async list(prefix: string): Promise<readonly Lease[]> {
    assertLeasePrefix(prefix);
    const now = this.#now();
    return [...this.#leases.entries()]
      .filter(([key, lease]) => key.startsWith(prefix) && lease.expiresAt > now)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, lease]) => toLease(key, lease));
  }

  async get(key: string): Promise<Lease | undefined> {
    assertStoreKey('lease key', key);
    const lease = this.#leases.get(key);
    if (lease === undefined || lease.expiresAt <= this.#now()) return undefined;
    return toLease(key, lease);
  }
}

function toLease(key: string, lease: { owner: string; expiresAt: number; heartbeatAt: number }): Lease {
  return Object.freeze({
    key,
    owner: lease.owner,
    expiresAt: new Date(lease.expiresAt),
    heartbeatAt: new Date(lease.heartbeatAt),
  });
}
