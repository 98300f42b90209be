import type { RecordedEvent } from '@annals/core';
import { expect } from 'vitest';
import { collect, deliveryTimeout, settleAll, toArray, withTimeout } from './collect.js';
import { added, createFixtureStore } from './conformance-events.js';
import type { ConformanceCase } from './conformance-types.js';
import { expectAnnalsError } from './expect-error.js';

const group = 'close';

/** Cases for `close()`. */
export const closeCases: readonly ConformanceCase[] = [
  {
    group,
    name: 'close() ends live subscriptions: waiting for-await loops exit and callback subscriptions settle',
    async run(ctx) {
      const store = await createFixtureStore(ctx);
      await store.append('cart-1', [added('a')]);
      const timeout = deliveryTimeout(ctx);
      const toStream = store.subscribeToStream('cart-1');
      const toAll = store.subscribeToAll();
      const seen: RecordedEvent[] = [];
      const callbacks: { done: Promise<void> }[] = [];
      const handled = new Promise<void>((resolve, reject) => {
        callbacks.push(store.subscribe('cart-1', () => resolve(), { onError: reject }));
      });
      const caughtUp: Promise<void>[] = [];
      const loops = [toStream, toAll].map((sub) => {
        let first!: () => void;
        caughtUp.push(new Promise<void>((resolve) => (first = resolve)));
        return (async () => {
          for await (const event of sub) {
            seen.push(event);
            first();
          }
        })();
      });
      for (const loop of loops) loop.catch(() => {});
      // Once every subscriber has the stored event, all of them are waiting for live events.
      await withTimeout(handled, timeout, 'the callback receiving the stored event');
      await withTimeout(Promise.all(caughtUp), timeout, 'both loops receiving the stored event');
      expect(seen).toHaveLength(2);

      await store.close();
      await withTimeout(settleAll(...loops), timeout, 'the for-await loops ending after close()');
      await withTimeout(callbacks[0]!.done, timeout, 'the callback subscription settling after close()');
      expect(toStream.stopped).toBe(true);
      expect(toAll.stopped).toBe(true);
    },
  },
  {
    group,
    name: 'after close() every call throws StoreClosed',
    async run(ctx) {
      const store = await createFixtureStore(ctx);
      await store.append('cart-1', [added('a')]);
      await store.close();
      const timeout = deliveryTimeout(ctx);
      const calls: [string, () => unknown][] = [
        ['append', () => store.append('cart-1', [added('b')])],
        ['publish', () => store.publish('cart-1', added('b'))],
        ['readStream', () => toArray(store.readStream('cart-1'))],
        ['readAll', () => toArray(store.readAll())],
        ['subscribeToStream', () => collect(store.subscribeToStream('cart-1'), 1, timeout)],
        ['subscribeToAll', () => collect(store.subscribeToAll(), 1, timeout)],
        ['subscribe', () => store.subscribe('cart-1', () => {}, { onError: () => {} }).done],
      ];
      for (const [name, call] of calls) {
        const error = await expectAnnalsError(call, 'STORE_CLOSED').catch((cause: unknown) => {
          throw new Error(`${name} after close(): ${(cause as Error).message}`, { cause });
        });
        expect(error).toBeInstanceOf(Error);
      }
    },
  },
];
