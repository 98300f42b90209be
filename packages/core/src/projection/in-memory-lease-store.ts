import { InvalidArgument } from '../errors/store-errors.js';
import { assertStoreKey } from '../store/store-key.js';
import type { Lease, LeaseStore } from './lease-store.js';

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
