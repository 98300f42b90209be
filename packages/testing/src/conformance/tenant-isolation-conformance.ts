import { type CheckpointStore, type EventStore, hasErrorCode } from '@annals/core';
import { describe, it } from 'vitest';
import { DEFAULT_DELIVERY_TIMEOUT_MS } from './collect.js';
import {
  type TenantIsolationCase,
  type TenantIsolationContext,
  type TenantStore,
  tenantIsolationCases,
} from './tenant-isolation-cases.js';

/** What {@link runTenantIsolationCase} needs. */
export interface TenantIsolationCaseOptions {
  /** A fresh, empty store that hands out tenant handles, knowing the given definitions. */
  createStore: (
    options: Parameters<TenantIsolationContext['createStore']>[0],
  ) => Promise<TenantStore> | TenantStore;
  /** Makes a tenant handle ready for use (on PostgreSQL: `await handle.migrate()`). Default: nothing. */
  prepareTenant?: (tenant: EventStore) => Promise<void>;
  /** A checkpoint store of the tenant handle `tenant`. */
  createCheckpointStore: (tenant: EventStore) => Promise<CheckpointStore<any>> | CheckpointStore<any>;
  /** How long cases wait for a delivery. Default 5000 ms. */
  readonly deliveryTimeoutMs?: number;
}

/** Options of {@link runTenantIsolationConformance}. */
export interface TenantIsolationConformanceOptions extends TenantIsolationCaseOptions {
  /** Names the store in the test report. */
  readonly name: string;
  /** Vitest timeout of each case. Default 30000 ms. */
  readonly caseTimeoutMs?: number;
}

/**
 * Runs one tenant-isolation case outside of any test registration (the suite's own tests use it to
 * show a leaking store fails). Every store the case created is closed afterwards.
 */
export async function runTenantIsolationCase(
  isolationCase: TenantIsolationCase,
  options: TenantIsolationCaseOptions,
): Promise<void> {
  const stores: EventStore[] = [];
  const checkpointStores = new Map<EventStore, CheckpointStore<any>>();
  const context: TenantIsolationContext = {
    deliveryTimeoutMs: options.deliveryTimeoutMs ?? DEFAULT_DELIVERY_TIMEOUT_MS,
    async createStore(registryOptions = {}) {
      const store = await options.createStore(registryOptions);
      stores.push(store);
      return store;
    },
    async tenant(store, tenantId) {
      const tenant = store.forTenant(tenantId);
      await options.prepareTenant?.(tenant);
      return tenant;
    },
    async checkpoints(tenant) {
      let checkpoints = checkpointStores.get(tenant);
      if (checkpoints === undefined) {
        checkpoints = await options.createCheckpointStore(tenant);
        checkpointStores.set(tenant, checkpoints);
      }
      return checkpoints;
    },
  };
  try {
    await isolationCase.run(context);
  } finally {
    for (const store of stores.reverse()) {
      await store.close().catch((error: unknown) => {
        if (!hasErrorCode(error, 'STORE_CLOSED')) throw error;
      });
    }
  }
}

/**
 * Registers the tenant-isolation cases with vitest, one `it` per read path: `readStream`, `readAll`,
 * `subscribeToStream`, `subscribeToAll`, projections and checkpoints, export (and import), and the
 * tenant id check. Each case writes to tenants `a` and `b` of one store and proves neither sees the
 * other's events.
 *
 * @example
 * ```ts
 * runTenantIsolationConformance({
 *   name: 'InMemoryEventStore',
 *   createStore: (options) => new InMemoryEventStore(options),
 *   createCheckpointStore: () => new InMemoryCheckpointStore(),
 * });
 * ```
 */
export function runTenantIsolationConformance(options: TenantIsolationConformanceOptions): void {
  describe(`${options.name}: tenant isolation`, () => {
    for (const c of tenantIsolationCases) {
      it(c.name, { timeout: options.caseTimeoutMs ?? 30_000 }, () => runTenantIsolationCase(c, options));
    }
  });
}
