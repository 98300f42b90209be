import { publish, type RecordedEvent, subscribe } from '@annals/core';
import { expect } from 'vitest';
import { collect, deliveryTimeout, settleAll, toArray, withTimeout } from './collect.js';
import { added, createFixtureStore, withId } from './conformance-events.js';
import type { ConformanceCase } from './conformance-types.js';
import { expectAnnalsError } from './expect-error.js';

const group = 'close';

/** Reads `subscription` to its end into `into`; resolves when the iteration ends. */
async function drainInto(subscription: AsyncIterable<RecordedEvent>, into: string[]): Promise<void> {
  for await (const event of subscription) into.push(event.id);
}

/** Cases for `close()`. */
export const closeCases: readonly ConformanceCase[] = [
  {
    group,
    name: 'close() first delivers what was appended before it: a callback, a stream and an all subscription each see every event, then end',
    async run(ctx) {
      const store = await createFixtureStore(ctx);
      const timeout = deliveryTimeout(ctx);
      const called: string[] = [];
      const callback = subscribe(store, 'cart-1', (event) => void called.push(event.id), {
        onError: () => {},
      });
      const streamSeen: string[] = [];
      const allSeen: string[] = [];
      const loops = [
        drainInto(store.subscribeToStream('cart-1'), streamSeen),
        drainInto(store.subscribeToAll(), allSeen),
      ];
      for (const loop of loops) loop.catch(() => {});
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const event = withId(added(`sku-${i}`));
        await publish(store, 'cart-1', event);
        ids.push(event.id);
      }

      await store.close();
      expect(called, 'the callback, when close() resolved').toEqual(ids);
      await withTimeout(callback.done, timeout, 'the callback subscription settling after close()');
      await withTimeout(settleAll(...loops), timeout, 'the for-await loops ending after close()');
      expect(streamSeen, 'the subscribeToStream loop').toEqual(ids);
      expect(allSeen, 'the subscribeToAll loop').toEqual(ids);
      await expectAnnalsError(() => publish(store, 'cart-1', added('late')), 'STORE_CLOSED');
    },
  },
  {
    group,
    name: 'close() resolves only after a subscribe callback has returned from the last event appended before it',
    async run(ctx) {
      const store = await createFixtureStore(ctx);
      const timeout = deliveryTimeout(ctx);
      await publish(store, 'cart-1', added('a'));
      let entered!: () => void;
      const inHandler = new Promise<void>((resolve) => (entered = resolve));
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let returned = false;
      subscribe(
        store,
        'cart-1',
        async () => {
          entered();
          await gate;
          returned = true;
        },
        { onError: () => {} },
      );
      await withTimeout(inHandler, timeout, 'the handler receiving the stored event');
      let returnedWhenClosed: boolean | undefined;
      const closing = store.close({ drainTimeoutMs: 60_000 }).then(() => {
        returnedWhenClosed = returned;
      });
      // Give a close() that does not wait the turns it needs to resolve, then let the handler return.
      for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
      release();
      await withTimeout(closing, timeout, 'close() resolving once the handler returned');
      expect(returnedWhenClosed, 'whether the handler had returned when close() resolved').toBe(true);
    },
  },
  {
    group,
    name: 'close({ drainTimeoutMs }) bounds the wait: a consumer that stops asking and a handler that never returns are stopped',
    async run(ctx) {
      const store = await createFixtureStore(ctx);
      const timeout = deliveryTimeout(ctx);
      await store.append('cart-1', [added('a'), added('b')]);
      const stalled = store.subscribeToStream('cart-1');
      const iterator = stalled[Symbol.asyncIterator]();
      const first = await withTimeout(iterator.next(), timeout, 'the first stored event');
      expect(first.done).toBe(false);
      let entered!: () => void;
      const inHandler = new Promise<void>((resolve) => (entered = resolve));
      subscribe(
        store,
        'cart-1',
        () => {
          entered();
          return new Promise<void>(() => {}); // never returns
        },
        { onError: () => {} },
      );
      await withTimeout(inHandler, timeout, 'the hanging handler receiving the stored event');
      // The stalled loop has not taken 'b' and the handler never returns: only the timeout ends close().
      await withTimeout(
        store.close({ drainTimeoutMs: 50 }),
        timeout,
        'close({ drainTimeoutMs: 50 }) resolving',
      );
      expect(stalled.stopped).toBe(true);
      const after = await withTimeout(
        iterator.next(),
        timeout,
        'the stalled loop asking again after close()',
      );
      expect(after.done, 'the stalled loop ends once it asks again').toBe(true);
    },
  },
  {
    group,
    name: 'close() with a drainTimeoutMs that is not a number >= 0 throws InvalidArgument and closes nothing',
    async run(ctx) {
      const store = await createFixtureStore(ctx);
      for (const drainTimeoutMs of [-1, Number.NaN, Number.POSITIVE_INFINITY, '5' as unknown as number]) {
        const error = await expectAnnalsError(() => store.close({ drainTimeoutMs }), 'INVALID_ARGUMENT');
        expect(error.message).toContain('drainTimeoutMs');
      }
      await publish(store, 'cart-1', added('a'));
      expect(await toArray(store.readStream('cart-1'))).toHaveLength(1);
    },
  },
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
        callbacks.push(subscribe(store, 'cart-1', () => resolve(), { onError: reject }));
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
        ['publish', () => publish(store, 'cart-1', added('b'))],
        ['readStream', () => toArray(store.readStream('cart-1'))],
        ['readAll', () => toArray(store.readAll())],
        ['subscribeToStream', () => collect(store.subscribeToStream('cart-1'), 1, timeout)],
        ['subscribeToAll', () => collect(store.subscribeToAll(), 1, timeout)],
        ['subscribe', () => subscribe(store, 'cart-1', () => {}, { onError: () => {} }).done],
      ];
      const { appendToStreams, logStats } = store;
      if (appendToStreams !== undefined) {
        calls.push([
          'appendToStreams',
          () => appendToStreams.call(store, [{ streamId: 'cart-1', events: [added('b')] }]),
        ]);
      }
      if (logStats !== undefined) {
        calls.push(['logStats().pending', () => logStats.call(store).pending({ afterPosition: 0n })]);
      }
      for (const [name, call] of calls) {
        const error = await expectAnnalsError(call, 'STORE_CLOSED').catch((cause: unknown) => {
          throw new Error(`${name} after close(): ${(cause as Error).message}`, { cause });
        });
        expect(error).toBeInstanceOf(Error);
      }
    },
  },
];
