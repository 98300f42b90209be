import { AnnalsError } from '../errors/annals-error.js';
import type { EventStore } from './event-store.js';

declare module '../errors/annals-error.js' {
  interface AnnalsErrorCodes {
    INVALID_TENANT_ID: true;
  }
}

/** What a tenant id may be: 1 to 32 lower-case letters, digits or `_`, starting with a letter or digit. */
export const TENANT_ID_PATTERN = /^[a-z0-9][a-z0-9_]{0,31}$/;

/**
 * A tenant id was not 1 to 32 lower-case letters, digits or `_` starting with a letter or digit.
 * Nothing was read or written. The rule keeps an id usable in a PostgreSQL schema name, unquoted.
 */
export class InvalidTenantId extends AnnalsError {
  /** The value given as tenant id. */
  readonly tenantId: unknown;
  constructor(tenantId: unknown) {
    super(
      'INVALID_TENANT_ID',
      `Expected a tenant id of 1 to 32 lower-case letters, digits or _ (starting with a letter or digit), found ${JSON.stringify(tenantId) ?? String(tenantId)}.`,
    );
    this.tenantId = tenantId;
  }
}

/** Throws {@link InvalidTenantId} unless `tenantId` follows {@link TENANT_ID_PATTERN}. */
export function assertTenantId(tenantId: unknown): asserts tenantId is string {
  if (typeof tenantId !== 'string' || !TENANT_ID_PATTERN.test(tenantId)) throw new InvalidTenantId(tenantId);
}

/**
 * A store that hands out tenant-scoped handles: `forTenant(id)` is an {@link EventStore} whose
 * reads, subscriptions, projections and checkpoints see only that tenant's events, with a global
 * order of its own. Both built-in stores implement it.
 *
 * @example
 * ```ts
 * const acme = store.forTenant('acme');
 * await acme.append('account-1', [MoneyDeposited.create({ amount: 5 })]);
 * for await (const e of store.forTenant('globex').readAll()) {} // never sees acme's events
 * ```
 */
export interface TenantScopedStore<TStore extends EventStore = EventStore> {
  /** The handle of one tenant (the same object for the same id); throws `InvalidTenantId` on a bad id. */
  forTenant(tenantId: string): TStore;
}

/**
 * @internal The tenant handles of one store: one per id, made on first use, closed with the store.
 * Stores keep one and delegate `forTenant` to it.
 */
export class TenantHandles<TStore extends EventStore> {
  readonly #handles = new Map<string, TStore>();
  readonly #create: (tenantId: string) => TStore;
  constructor(create: (tenantId: string) => TStore) {
    this.#create = create;
  }

  /** The handle of `tenantId`, made on first use. */
  get(tenantId: unknown): TStore {
    assertTenantId(tenantId);
    let handle = this.#handles.get(tenantId);
    if (handle === undefined) {
      handle = this.#create(tenantId);
      this.#handles.set(tenantId, handle);
    }
    return handle;
  }

  /** Closes every handle made (passing the store's close options on). */
  async close(close: (handle: TStore) => Promise<void>): Promise<void> {
    await Promise.all([...this.#handles.values()].map(close));
  }
}
