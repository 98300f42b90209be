import {
  type CheckpointStore,
  defineProjection,
  type EventRegistryOptions,
  type EventStore,
  exportEvents,
  importEvents,
  ProjectionRunner,
  type RecordedEvent,
  type TenantScopedStore,
} from '@annals/core';
import { expect } from 'vitest';
import { collect, collectUntil, toArray } from './collect.js';
import { added, conformanceEvents, ItemAdded } from './conformance-events.js';
import { expectAnnalsError } from './expect-error.js';

/** A store that hands out tenant handles. */
export type TenantStore = EventStore & TenantScopedStore;

/** What a tenant-isolation case receives. */
export interface TenantIsolationContext {
  /** A fresh, empty store knowing the conformance events; closed after the case. */
  createStore(options?: EventRegistryOptions): Promise<TenantStore>;
  /** `store.forTenant(id)`, made ready for use (e.g. its schema migrated). */
  tenant(store: TenantStore, tenantId: string): Promise<EventStore>;
  /** A checkpoint store that belongs to the tenant handle `tenant`. */
  checkpoints(tenant: EventStore): Promise<CheckpointStore<any>>;
  /** How long a case waits for a delivery, in milliseconds. */
  readonly deliveryTimeoutMs: number;
}

/** One isolation guarantee, proved against any {@link TenantScopedStore}. */
export interface TenantIsolationCase {
  readonly name: string;
  run(context: TenantIsolationContext): Promise<void>;
}

const silent = { error() {}, warn() {}, info() {}, debug() {} };

/** Tenants `a` and `b` of one store, both holding a stream `shared-1` and one stream of their own. */
async function twoTenants(context: TenantIsolationContext) {
  const store = await context.createStore({ events: conformanceEvents });
  const a = await context.tenant(store, 'a');
  const b = await context.tenant(store, 'b');
  await a.append('shared-1', [added('a-1'), added('a-2')]);
  await b.append('shared-1', [added('b-1')]);
  await a.append('only-a', [added('a-3')]);
  await b.append('only-b', [added('b-2'), added('b-3')]);
  return { store, a, b };
}

const skus = (events: readonly RecordedEvent[]) => events.map((e) => (e.data as { sku: string }).sku);

/** The tenant-isolation cases, one per read path, plus the tenant id check. */
export const tenantIsolationCases: readonly TenantIsolationCase[] = Object.freeze([
  {
    name: 'readStream: a tenant reads only its own events of a stream id both use, and not the other one',
    async run(context) {
      const { a, b } = await twoTenants(context);
      expect(skus(await toArray(a.readStream('shared-1')))).toEqual(['a-1', 'a-2']);
      expect(skus(await toArray(b.readStream('shared-1')))).toEqual(['b-1']);
      await expectAnnalsError(() => toArray(a.readStream('only-b')), 'STREAM_NOT_FOUND');
      await expectAnnalsError(() => toArray(b.readStream('only-a')), 'STREAM_NOT_FOUND');
    },
  },
  {
    name: "readAll: a tenant's global log holds only its own events, with and without filters",
    async run(context) {
      const { a, b } = await twoTenants(context);
      expect(skus(await toArray(a.readAll()))).toEqual(['a-1', 'a-2', 'a-3']);
      expect(skus(await toArray(b.readAll()))).toEqual(['b-1', 'b-2', 'b-3']);
      const filtered = await toArray(a.readAll({ filter: { streamPrefix: 'only', types: ['ItemAdded'] } }));
      expect(skus(filtered)).toEqual(['a-3']);
    },
  },
  {
    name: "subscribeToStream: catch-up and live deliver only the tenant's events of a stream id both use",
    async run(context) {
      const { a, b } = await twoTenants(context);
      const subscription = a.subscribeToStream('shared-1');
      try {
        expect(skus(await collect(subscription, 2, context.deliveryTimeoutMs))).toEqual(['a-1', 'a-2']);
        await b.append('shared-1', [added('b-live')]);
        await a.append('shared-1', [added('a-live')]);
        const [next] = await collect(subscription, 1, context.deliveryTimeoutMs);
        expect(skus([next!])).toEqual(['a-live']);
      } finally {
        subscription.stop();
      }
    },
  },
  {
    name: "subscribeToAll: catch-up and live deliver only the tenant's events",
    async run(context) {
      const { a, b } = await twoTenants(context);
      const subscription = b.subscribeToAll();
      try {
        await a.append('shared-1', [added('a-live')]);
        await b.append('only-b', [added('b-live')]);
        const seen = await collectUntil(subscription, (e) => skus([e])[0] === 'b-live', {
          timeoutMs: context.deliveryTimeoutMs,
        });
        expect(skus(seen)).toEqual(['b-1', 'b-2', 'b-3', 'b-live']);
      } finally {
        subscription.stop();
      }
    },
  },
  {
    name: 'projections and checkpoints: a projection of one name runs per tenant, each on its own events and checkpoint',
    async run(context) {
      const { a, b } = await twoTenants(context);
      const models = new Map<EventStore, string[]>([
        [a, []],
        [b, []],
      ]);
      const runners: ProjectionRunner<any, any>[] = [];
      try {
        for (const tenant of [a, b]) {
          const seen = models.get(tenant)!;
          const projection = defineProjection({
            name: 'skus',
            events: [ItemAdded],
            handlers: { ItemAdded: (e) => void seen.push(e.data.sku) },
          });
          const checkpoints = await context.checkpoints(tenant);
          const runner = new ProjectionRunner({
            store: tenant,
            projections: [projection],
            checkpoints,
            logger: silent,
          });
          runners.push(runner);
          await runner.start();
        }
        for (const runner of runners) await runner.waitUntilCaughtUp();
        expect(models.get(a)).toEqual(['a-1', 'a-2', 'a-3']);
        expect(models.get(b)).toEqual(['b-1', 'b-2', 'b-3']);
        for (const tenant of [a, b]) {
          const last = (await toArray(tenant.readAll())).at(-1)!;
          const checkpoint = await (await context.checkpoints(tenant)).load('skus');
          expect(checkpoint, "each tenant's checkpoint is at its own last event").toBe(last.position);
        }
      } finally {
        for (const runner of runners) await runner.stop();
      }
    },
  },
  {
    name: "export: a tenant's export holds only its events, and imports into another tenant as they were",
    async run(context) {
      const { store, a, b } = await twoTenants(context);
      const exported = await toArray(exportEvents(a));
      expect(skus(exported)).toEqual(['a-1', 'a-2', 'a-3']);
      const copy = await context.tenant(store, 'copy_of_a');
      const result = await importEvents(copy, exportEvents(a));
      expect(result.events).toBe(3);
      const copied = await toArray(copy.readAll());
      const shape = (e: RecordedEvent) => [
        e.id,
        e.streamId,
        e.revision,
        e.type,
        e.data,
        e.recordedAt.getTime(),
      ];
      expect(copied.map(shape)).toEqual(exported.map(shape));
      expect(skus(await toArray(exportEvents(b)))).toEqual(['b-1', 'b-2', 'b-3']);
    },
  },
  {
    name: 'forTenant refuses an id that is not 1 to 32 lower-case letters, digits or _ with InvalidTenantId',
    async run(context) {
      const store = await context.createStore({ events: conformanceEvents });
      for (const bad of ['', 'Acme', 'a-b', '_a', 'a'.repeat(33), 'a;drop', 7 as unknown as string]) {
        await expectAnnalsError(() => store.forTenant(bad), 'INVALID_TENANT_ID');
      }
    },
  },
]);
