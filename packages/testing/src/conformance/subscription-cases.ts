import { type EventFilter, type RecordedEvent, uuidv7 } from '@annals/core';
import { expect } from 'vitest';
import {
  collect,
  collectUntil,
  deliveryTimeout,
  expectEnded,
  settleAll,
  toArray,
  withTimeout,
} from './collect.js';
import { added, appendInBatches, createFixtureStore, note, placeOf, removed } from './conformance-events.js';
import type { ConformanceCase } from './conformance-types.js';
import { expectAnnalsError } from './expect-error.js';

const group = 'subscriptions';

const isEvent = (id: string) => (event: RecordedEvent) => event.id === id;

/** Cases for `subscribeToStream`, `subscribeToAll` and `stop()`. */
export const subscriptionCases: readonly ConformanceCase[] = [
  {
    group,
    name: 'subscribeToStream delivers the stored events then live ones, each exactly once and in order, while a writer keeps appending',
    async run(ctx) {
      const store = await createFixtureStore(ctx);
      await appendInBatches(store, 'cart-1', 10);
      await appendInBatches(store, 'cart-2', 4);
      const fence = uuidv7();
      const sub = store.subscribeToStream('cart-1');
      try {
        const [received] = await settleAll(
          collectUntil(sub, isEvent(fence), { timeoutMs: deliveryTimeout(ctx) }),
          (async () => {
            await settleAll(
              appendInBatches(store, 'cart-1', 20, { last: 9n }),
              appendInBatches(store, 'cart-2', 10, { last: 3n }),
            );
            await store.append('cart-1', [added('fence', { id: fence })], { expectedRevision: 29n });
          })(),
        );
        const stored = await toArray(store.readStream('cart-1'));
        expect(stored).toHaveLength(31);
        expect(received.map(placeOf)).toEqual(stored.map(placeOf));
      } finally {
        await sub.stop();
      }
    },
  },
  {
    group,
    name: 'subscribeToStream from a revision starts there (inclusive, bigint or number), then goes live',
    async run(ctx) {
      const store = await createFixtureStore(ctx);
      await appendInBatches(store, 'cart-1', 6);
      const fromBigint = store.subscribeToStream('cart-1', { fromRevision: 3n });
      const fromNumber = store.subscribeToStream('cart-1', { fromRevision: 5 });
      try {
        const timeout = deliveryTimeout(ctx);
        expect((await collect(fromBigint, 3, timeout)).map((e) => e.revision)).toEqual([3n, 4n, 5n]);
        expect((await collect(fromNumber, 1, timeout)).map((e) => e.revision)).toEqual([5n]);
        await store.append('cart-1', [added('live')], { expectedRevision: 5n });
        expect((await collect(fromBigint, 1, timeout))[0]).toMatchObject({
          revision: 6n,
          streamId: 'cart-1',
        });
        expect((await collect(fromNumber, 1, timeout))[0]).toMatchObject({
          revision: 6n,
          streamId: 'cart-1',
        });
      } finally {
        await settleAll(fromBigint.stop(), fromNumber.stop());
      }
    },
  },
  {
    group,
    name: 'subscribeToStream on a stream that does not exist yet waits for it and delivers its first events',
    async run(ctx) {
      const store = await createFixtureStore(ctx);
      const sub = store.subscribeToStream('later');
      try {
        const [received] = await settleAll(
          collect(sub, 3, deliveryTimeout(ctx)),
          (async () => {
            await store.append('elsewhere', [added('x')]);
            await store.append('later', [added('a'), added('b')], { expectedRevision: 'no_stream' });
            await store.append('later', [removed('a')], { expectedRevision: 1n });
          })(),
        );
        expect(received.map(placeOf)).toEqual((await toArray(store.readStream('later'))).map(placeOf));
      } finally {
        await sub.stop();
      }
    },
  },
  {
    group,
    name: 'subscribeToAll delivers the whole log then live events, each exactly once and in order, while several writers keep appending',
    async run(ctx) {
      const store = await createFixtureStore(ctx);
      await appendInBatches(store, 'a', 5);
      await appendInBatches(store, 'b', 5);
      const fence = uuidv7();
      const sub = store.subscribeToAll();
      try {
        const [received] = await settleAll(
          collectUntil(sub, isEvent(fence), { timeoutMs: deliveryTimeout(ctx) }),
          (async () => {
            await settleAll(
              appendInBatches(store, 'a', 12, { last: 4n }),
              appendInBatches(store, 'b', 12, { last: 4n }),
              appendInBatches(store, 'c', 12),
            );
            await store.append('fence', [note('fence', { id: fence })]);
          })(),
        );
        const log = await toArray(store.readAll());
        expect(log).toHaveLength(47);
        expect(received.map(placeOf)).toEqual(log.map(placeOf));
      } finally {
        await sub.stop();
      }
    },
  },
  {
    group,
    name: 'subscribeToAll from a position starts at that event (inclusive), alone or with a filter, then goes live while writers append',
    async run(ctx) {
      const store = await createFixtureStore(ctx);
      await appendInBatches(store, 'order-1', 4);
      await appendInBatches(store, 'invoice-1', 4);
      const start = (await toArray(store.readAll()))[3]!.position;
      const filter = { streamPrefix: 'order-' };
      const fence = uuidv7();
      const plain = store.subscribeToAll({ fromPosition: start });
      const filtered = store.subscribeToAll({ fromPosition: Number(start), filter });
      try {
        const timeout = deliveryTimeout(ctx);
        const [fromStart, filteredFromStart] = await settleAll(
          collectUntil(plain, isEvent(fence), { timeoutMs: timeout }),
          collectUntil(filtered, isEvent(fence), { timeoutMs: timeout }),
          (async () => {
            await settleAll(
              appendInBatches(store, 'order-1', 6, { last: 3n }),
              appendInBatches(store, 'invoice-1', 6, { last: 3n }),
            );
            await store.append('order-fence', [added('fence', { id: fence })]);
          })(),
        );
        expect(fromStart[0]!.position).toBe(start);
        expect(fromStart.map(placeOf)).toEqual(
          (await toArray(store.readAll({ fromPosition: start }))).map(placeOf),
        );
        expect(filteredFromStart.map(placeOf)).toEqual(
          (await toArray(store.readAll({ fromPosition: start, filter }))).map(placeOf),
        );
        expect(filteredFromStart.every((e) => e.streamId.startsWith('order-'))).toBe(true);
      } finally {
        await settleAll(plain.stop(), filtered.stop());
      }
    },
  },
  {
    group,
    name: 'subscribeToAll from past the last position delivers only events appended later',
    async run(ctx) {
      const store = await createFixtureStore(ctx);
      const { lastPosition } = await store.append('old', [added('a'), added('b')]);
      const sub = store.subscribeToAll({ fromPosition: lastPosition + 1n });
      try {
        const [received] = await settleAll(
          collect(sub, 2, deliveryTimeout(ctx)),
          store.append('new', [added('c'), added('d')]),
        );
        expect(received.map((e) => `${e.streamId}:${e.revision}`)).toEqual(['new:0', 'new:1']);
      } finally {
        await sub.stop();
      }
    },
  },
  {
    group,
    name: 'subscribeToAll with a types and/or streamPrefix filter delivers exactly the matching events, once and in order, while writers append matching and other events',
    async run(ctx) {
      const store = await createFixtureStore(ctx);
      const mixed = (i: number) =>
        i % 3 === 0 ? removed(`r${i}`) : i % 3 === 1 ? added(`a${i}`) : note(`n${i}`);
      await appendInBatches(store, 'order-1', 6, { make: mixed });
      await appendInBatches(store, 'invoice-1', 6, { make: mixed });
      const filters: EventFilter[] = [
        { types: ['ItemAdded'] },
        { streamPrefix: 'order-' },
        { types: ['ItemAdded', 'Note'], streamPrefix: 'order-' },
      ];
      const fence = uuidv7();
      const subs = filters.map((filter) => store.subscribeToAll({ filter }));
      try {
        const timeout = deliveryTimeout(ctx);
        const [received] = await settleAll(
          settleAll(...subs.map((sub) => collectUntil(sub, isEvent(fence), { timeoutMs: timeout }))),
          (async () => {
            await settleAll(
              appendInBatches(store, 'order-1', 9, { last: 5n, make: mixed }),
              appendInBatches(store, 'invoice-1', 9, { last: 5n, make: mixed }),
              appendInBatches(store, 'order-2', 9, { make: mixed }),
            );
            await store.append('order-fence', [added('fence', { id: fence })]);
          })(),
        );
        const log = await toArray(store.readAll());
        for (const [i, filter] of filters.entries()) {
          const matching = log.filter(
            (e) =>
              (filter.types === undefined || filter.types.includes(e.type)) &&
              (filter.streamPrefix === undefined || e.streamId.startsWith(filter.streamPrefix)),
          );
          expect(matching.length).toBeLessThan(log.length);
          expect(received[i]!.map(placeOf), `delivered with filter ${JSON.stringify(filter)}`).toEqual(
            matching.map(placeOf),
          );
        }
      } finally {
        await settleAll(...subs.map((sub) => sub.stop()));
      }
    },
  },
  {
    group,
    name: 'stop() ends the iteration: a for-await loop waiting for live events exits and a pending next() resolves done',
    async run(ctx) {
      const store = await createFixtureStore(ctx);
      await store.append('cart-1', [added('a'), added('b'), added('c')]);
      const timeout = deliveryTimeout(ctx);

      const looped = store.subscribeToStream('cart-1');
      const seen: RecordedEvent[] = [];
      let caughtUp!: () => void;
      const historyDelivered = new Promise<void>((resolve) => {
        caughtUp = resolve;
      });
      const loop = (async () => {
        for await (const event of looped) {
          seen.push(event);
          if (seen.length === 3) caughtUp();
        }
      })();
      loop.catch(() => {}); // awaited below; keeps a failure from being reported as unhandled first
      try {
        await withTimeout(historyDelivered, timeout, 'delivery of the 3 stored events');
        await looped.stop();
        await withTimeout(loop, timeout, 'the for-await loop ending after stop()');
      } finally {
        await looped.stop();
      }
      expect(looped.stopped).toBe(true);
      expect(seen).toHaveLength(3);

      const pulled = store.subscribeToAll();
      const iterator = pulled[Symbol.asyncIterator]();
      try {
        for (let i = 0; i < 3; i++) {
          const result = await withTimeout(iterator.next(), timeout, `delivery of stored event ${i}`);
          expect(result.done).toBe(false);
        }
        const pending = iterator.next();
        pending.catch(() => {});
        await pulled.stop();
        const result = await withTimeout(pending, timeout, 'a pending next() resolving after stop()');
        expect(result.done).toBe(true);
        expect(pulled.stopped).toBe(true);
      } finally {
        await pulled.stop();
      }
    },
  },
  {
    group,
    name: 'leaving a for-await loop (break or throw) stops the subscription; stop() again is harmless',
    async run(ctx) {
      const store = await createFixtureStore(ctx);
      await store.append('cart-1', [added('a'), added('b')]);
      const broken = store.subscribeToStream('cart-1');
      for await (const event of broken) {
        expect(event.revision).toBe(0n);
        break;
      }
      expect(broken.stopped).toBe(true);
      await broken.stop();
      expect(broken.stopped).toBe(true);

      const thrown = store.subscribeToAll();
      const failure = new Error('leave the loop');
      await expect(
        (async () => {
          for await (const _ of thrown) throw failure;
        })(),
      ).rejects.toBe(failure);
      expect(thrown.stopped).toBe(true);
    },
  },
  {
    group,
    name: 'a subscription stopped before it is iterated delivers nothing and ends at once',
    async run(ctx) {
      const store = await createFixtureStore(ctx);
      await store.append('cart-1', [added('a')]);
      const sub = store.subscribeToStream('cart-1');
      const all = store.subscribeToAll();
      await settleAll(sub.stop(), all.stop());
      expect(sub.stopped).toBe(true);
      await expectEnded(sub, deliveryTimeout(ctx), 'a subscription stopped before iteration');
      await expectEnded(all, deliveryTimeout(ctx), 'a subscribeToAll stopped before iteration');
    },
  },
  {
    group,
    name: 'a subscription can be iterated only once',
    async run(ctx) {
      const store = await createFixtureStore(ctx);
      await store.append('cart-1', [added('a')]);
      const sub = store.subscribeToStream('cart-1');
      try {
        expect(await collect(sub, 1, deliveryTimeout(ctx))).toHaveLength(1);
        await expectAnnalsError(() => sub[Symbol.asyncIterator](), 'INVALID_ARGUMENT');
      } finally {
        await sub.stop();
      }
    },
  },
];
