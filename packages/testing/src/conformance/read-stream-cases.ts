import type { EventStore, ReadStreamOptions } from '@annals/core';
import { MAX_REVISION } from '@annals/core/adapter';
import { expect } from 'vitest';
import { toArray } from './collect.js';
import { added, createFixtureStore, removed } from './conformance-events.js';
import type { ConformanceCase, ConformanceContext } from './conformance-types.js';
import { expectAnnalsError, expectRefusedSubscription } from './expect-error.js';

const group = 'readStream';

/** A store whose stream `cart-1` holds skus a..e at revisions 0..4, interleaved with `cart-2` and `cart-10`. */
async function fiveEventStream(ctx: ConformanceContext): Promise<EventStore> {
  const store = await createFixtureStore(ctx);
  await store.append('cart-1', [added('a'), added('b')]);
  await store.append('cart-2', [added('other')]);
  await store.append('cart-1', [removed('c')]);
  await store.append('cart-10', [added('prefix-neighbour')]);
  await store.append('cart-1', [added('d'), added('e')]);
  return store;
}

async function skus(store: EventStore, options?: ReadStreamOptions): Promise<string[]> {
  const events = await toArray(store.readStream('cart-1', options));
  for (const e of events) expect(e.streamId).toBe('cart-1');
  return events.map((e) => `${e.revision}:${(e.data as { sku: string }).sku}`);
}

/** Cases for `readStream`. */
export const readStreamCases: readonly ConformanceCase[] = [
  {
    group,
    name: "reads forwards by default: only the stream's own events, in revision order, with increasing positions",
    async run(ctx) {
      const store = await fiveEventStream(ctx);
      expect(await skus(store)).toEqual(['0:a', '1:b', '2:c', '3:d', '4:e']);
      expect(await skus(store, { direction: 'forwards' })).toEqual(['0:a', '1:b', '2:c', '3:d', '4:e']);
      const events = await toArray(store.readStream('cart-1'));
      expect(events.map((e) => e.type)).toEqual([
        'ItemAdded',
        'ItemAdded',
        'ItemRemoved',
        'ItemAdded',
        'ItemAdded',
      ]);
      for (let i = 1; i < events.length; i++) {
        expect(events[i]!.position > events[i - 1]!.position).toBe(true);
      }
    },
  },
  {
    group,
    name: 'reads backwards from the last event',
    async run(ctx) {
      const store = await fiveEventStream(ctx);
      expect(await skus(store, { direction: 'backwards' })).toEqual(['4:e', '3:d', '2:c', '1:b', '0:a']);
    },
  },
  {
    group,
    name: 'fromRevision is inclusive, forwards and backwards, as bigint or number; forwards past the end reads nothing',
    async run(ctx) {
      const store = await fiveEventStream(ctx);
      expect(await skus(store, { fromRevision: 2n })).toEqual(['2:c', '3:d', '4:e']);
      expect(await skus(store, { fromRevision: 2 })).toEqual(['2:c', '3:d', '4:e']);
      expect(await skus(store, { fromRevision: 4n })).toEqual(['4:e']);
      expect(await skus(store, { fromRevision: 0n, direction: 'backwards' })).toEqual(['0:a']);
      expect(await skus(store, { fromRevision: 2n, direction: 'backwards' })).toEqual(['2:c', '1:b', '0:a']);
      expect(await skus(store, { fromRevision: 5n })).toEqual([]);
    },
  },
  {
    group,
    name: 'maxCount limits the events read, alone and with fromRevision, in both directions',
    async run(ctx) {
      const store = await fiveEventStream(ctx);
      expect(await skus(store, { maxCount: 2 })).toEqual(['0:a', '1:b']);
      expect(await skus(store, { maxCount: 2, direction: 'backwards' })).toEqual(['4:e', '3:d']);
      expect(await skus(store, { fromRevision: 1n, maxCount: 3 })).toEqual(['1:b', '2:c', '3:d']);
      expect(await skus(store, { fromRevision: 3n, maxCount: 2, direction: 'backwards' })).toEqual([
        '3:d',
        '2:c',
      ]);
      expect(await skus(store, { maxCount: 100 })).toHaveLength(5);
    },
  },
  {
    group,
    name: 'reading a stream that does not exist throws StreamNotFound naming it',
    async run(ctx) {
      const store = await fiveEventStream(ctx);
      for (const options of [{}, { direction: 'backwards' as const }, { fromRevision: 0n, maxCount: 1 }]) {
        const error = await expectAnnalsError(
          () => toArray(store.readStream('cart-404', options)),
          'STREAM_NOT_FOUND',
        );
        expect((error as unknown as { streamId: string }).streamId).toBe('cart-404');
        expect(error.message).toContain('cart-404');
      }
      await expectAnnalsError(() => toArray(store.readStream('cart')), 'STREAM_NOT_FOUND');
    },
  },
  {
    group,
    name: 'fromRevision below 0 and maxCount below 1 or fractional are refused with InvalidArgument',
    async run(ctx) {
      const store = await fiveEventStream(ctx);
      for (const options of [
        { fromRevision: -1n },
        { fromRevision: -1 },
        { maxCount: 0 },
        { maxCount: 1.5 },
      ]) {
        await expectAnnalsError(() => toArray(store.readStream('cart-1', options)), 'INVALID_ARGUMENT');
      }
    },
  },
  {
    group,
    name: 'fromRevision above MAX_REVISION (2^63 - 1) is refused with InvalidArgument by readStream and subscribeToStream; MAX_REVISION itself reads nothing forwards and the whole stream backwards',
    async run(ctx) {
      const store = await fiveEventStream(ctx);
      for (const fromRevision of [MAX_REVISION + 1n, 2n ** 64n, 10n ** 30n]) {
        const error = await expectAnnalsError(
          () => toArray(store.readStream('cart-1', { fromRevision })),
          'INVALID_ARGUMENT',
        );
        expect(error.message, 'the message names the option').toContain('fromRevision');
        expect(error.message, 'the message names the highest revision').toContain(String(MAX_REVISION));
        await expectAnnalsError(
          () => toArray(store.readStream('cart-1', { fromRevision, direction: 'backwards' })),
          'INVALID_ARGUMENT',
        );
        await expectRefusedSubscription(
          () => store.subscribeToStream('cart-1', { fromRevision }),
          'INVALID_ARGUMENT',
          ctx,
        );
      }
      expect(await skus(store, { fromRevision: MAX_REVISION })).toEqual([]);
      expect(await skus(store, { fromRevision: MAX_REVISION, direction: 'backwards' })).toEqual([
        '4:e',
        '3:d',
        '2:c',
        '1:b',
        '0:a',
      ]);
    },
  },
];
