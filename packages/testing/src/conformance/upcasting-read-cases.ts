import { expect } from 'vitest';
import { collect, deliveryTimeout, toArray } from './collect.js';
import type { ConformanceCase } from './conformance-types.js';
import { expectAnnalsError } from './expect-error.js';
import {
  asV3,
  credited,
  current,
  expectCurrent,
  mixedHistory,
  Opened,
  settledLog,
  upcastingStore,
  v1,
} from './upcasting-fixtures.js';

const group = 'upcasting';

/**
 * Upcasting on every read path: old versions read as the current one (a renamed type by its new
 * name, also in filters), in reads and subscriptions, and the stored events never rewritten.
 */
export const readUpcastingCases: readonly ConformanceCase[] = [
  {
    group,
    name: 'readStream reads an imported v1/v2/renamed history as the current version, forwards and backwards',
    async run(ctx) {
      const { store } = await upcastingStore(ctx);
      const { ids, expected } = await mixedHistory(store);
      const forwards = await toArray(store.readStream('acc-1'));
      expectCurrent(forwards);
      expect(forwards.map((e) => e.id)).toEqual(ids);
      expect(forwards.map((e) => e.revision)).toEqual([0n, 1n, 2n, 3n]);
      expect(forwards.map((e) => e.data)).toEqual(expected);
      expect(forwards[0]!.metadata).toEqual({ channel: 'web' });

      const backwards = await toArray(store.readStream('acc-1', { direction: 'backwards' }));
      expectCurrent(backwards);
      expect(backwards.map((e) => e.data)).toEqual([...expected].reverse());
      const page = await toArray(store.readStream('acc-1', { fromRevision: 1n, maxCount: 2 }));
      expect(page.map((e) => e.data)).toEqual(expected.slice(1, 3));
    },
  },
  {
    group,
    name: 'readAll reads old versions as the current one, and a type filter matches the upcast type (a renamed event by its new name)',
    async run(ctx) {
      const { store } = await upcastingStore(ctx);
      await store.append('other-1', [Opened.create({ account: 'other-1' })]);
      const { ids, expected } = await mixedHistory(store);

      const all = await settledLog(ctx, store, 5);
      expect(all.map((e) => e.type)).toEqual(['Opened', 'Deposited', 'Deposited', 'Deposited', 'Deposited']);
      expectCurrent(all.slice(1));
      expect(all.slice(1).map((e) => e.data)).toEqual(expected);

      const deposits = await toArray(store.readAll({ filter: { types: ['Deposited'] } }));
      expect(deposits.map((e) => e.id)).toEqual(ids);
      expect(deposits.map((e) => e.data)).toEqual(expected);
      expect(await toArray(store.readAll({ filter: { types: ['Credited'] } }))).toEqual([]);
      const prefixed = await toArray(
        store.readAll({ filter: { types: ['Deposited'], streamPrefix: 'acc-' } }),
      );
      expect(prefixed.map((e) => e.id)).toEqual(ids);
      const fromSecond = await toArray(store.readAll({ fromPosition: deposits[1]!.position, maxCount: 2 }));
      expect(fromSecond.map((e) => e.data)).toEqual(expected.slice(1, 3));
    },
  },
  {
    group,
    name: 'subscribeToStream delivers old versions upcast, in the catch-up and live',
    async run(ctx) {
      const { store } = await upcastingStore(ctx);
      const { expected } = await mixedHistory(store);
      const subscription = store.subscribeToStream('acc-1');
      try {
        const history = await collect(subscription, 4, deliveryTimeout(ctx));
        expectCurrent(history);
        expect(history.map((e) => e.data)).toEqual(expected);
        await store.append('acc-1', [v1('acc-1', 500), credited('acc-1', 600)], { import: true });
        await store.append('acc-1', [current('acc-1', 700)]);
        const live = await collect(subscription, 3, deliveryTimeout(ctx));
        expectCurrent(live);
        expect(live.map((e) => e.data)).toEqual([
          asV3('acc-1', 500),
          asV3('acc-1', 600),
          asV3('acc-1', 700, 'USD', 'branch'),
        ]);
      } finally {
        await subscription.stop();
      }
    },
  },
  {
    group,
    name: 'subscribeToAll delivers old versions upcast and filters by the upcast type, in the catch-up and live',
    async run(ctx) {
      const { store } = await upcastingStore(ctx);
      await store.append('other-1', [Opened.create({ account: 'other-1' })]);
      const { expected } = await mixedHistory(store);
      const subscription = store.subscribeToAll({ filter: { types: ['Deposited'] } });
      try {
        const history = await collect(subscription, 4, deliveryTimeout(ctx));
        expectCurrent(history);
        expect(history.map((e) => e.data)).toEqual(expected);
        await store.append('other-2', [Opened.create({ account: 'other-2' })]);
        await store.append('acc-2', [credited('acc-2', 1), v1('acc-2', 2)], { import: true });
        const live = await collect(subscription, 2, deliveryTimeout(ctx));
        expectCurrent(live);
        expect(live.map((e) => e.data)).toEqual([asV3('acc-2', 1), asV3('acc-2', 2)]);
      } finally {
        await subscription.stop();
      }
    },
  },
  {
    group,
    name: 'stored events are never rewritten: every read upcasts the stored v1 data again, and a re-import of it is idempotent',
    async run(ctx) {
      const { store, sabotage } = await upcastingStore(ctx);
      const old = v1('acc-1', 100);
      const first = await store.append('acc-1', [old], { import: true });
      await settledLog(ctx, store, 1);
      sabotage.v1Inputs.length = 0;
      await toArray(store.readStream('acc-1'));
      await toArray(store.readAll());
      await toArray(store.readStream('acc-1'));
      expect(sabotage.v1Inputs).toEqual([old.data, old.data, old.data]);

      // The stored row still holds the v1 content: re-importing it is the same event...
      expect(await store.append('acc-1', [old], { import: true })).toEqual(first);
      // ...and its id with the v3 content it is read as is another event.
      const asRead = { ...current('acc-1', 100), id: old.id, data: asV3('acc-1', 100) };
      await expectAnnalsError(() => store.append('acc-1', [asRead]), 'IDEMPOTENCY_CONFLICT');
      expect((await toArray(store.readStream('acc-1'))).map((e) => e.data)).toEqual([asV3('acc-1', 100)]);
    },
  },
];
