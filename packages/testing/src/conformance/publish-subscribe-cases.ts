import { isUuid, publish, type RecordedEvent, subscribe, uuidv7 } from '@annals/core';
import { expect } from 'vitest';
import { collectUntil, deliveryTimeout, toArray, withTimeout } from './collect.js';
import { createFixtureStore, invalidItem, logIds } from './conformance-events.js';
import type { ConformanceCase } from './conformance-types.js';
import { expectAnnalsError } from './expect-error.js';

const group = 'publish/subscribe';

/** A promise with its resolver, for waiting on a callback. */
function signal(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Cases for the `publish` / `subscribe` callback sugar. */
export const publishSubscribeCases: readonly ConformanceCase[] = [
  {
    group,
    name: "the seed's use works on a default store: subscribe('my-stream', cb) then publish a MyEvent delivers it with its id, type and data",
    async run(ctx) {
      const store = await ctx.createStore();
      const received: RecordedEvent[] = [];
      const arrived = signal();
      const errors: unknown[] = [];
      const subscription = subscribe(
        store,
        'my-stream',
        (event) => {
          received.push(event);
          arrived.resolve();
        },
        { onError: (error) => errors.push(error) },
      );
      const result = await publish(store, 'my-stream', { type: 'MyEvent', data: { text: 'Hello, world!' } });
      await withTimeout(arrived.promise, deliveryTimeout(ctx), 'delivery of the published MyEvent');
      await subscription.stop();
      await withTimeout(subscription.done, deliveryTimeout(ctx), 'done resolving after stop()');

      expect(received).toHaveLength(1);
      const [event] = received;
      expect(isUuid(event!.id)).toBe(true);
      expect(event).toMatchObject({ type: 'MyEvent', streamId: 'my-stream', revision: 0n });
      expect(event!.data).toEqual({ text: 'Hello, world!' });
      expect(event!.metadata).toEqual({});
      expect(event!.position).toBe(result.firstPosition);
      expect(result.nextExpectedRevision).toBe(0n);
      expect(errors).toEqual([]);
    },
  },
  {
    group,
    name: 'publish appends one event with expected revision any, to a new or an existing stream, and keeps its metadata',
    async run(ctx) {
      const store = await ctx.createStore();
      const results = [
        await publish(store, 's', { type: 'A', data: { n: 1 } }),
        await publish(store, 's', {
          type: 'B',
          data: { n: 2 },
          metadata: { correlationId: 'c-1', tenant: 't' },
        }),
        await publish(store, 's', { type: 'C', data: { n: 3 } }),
      ];
      expect(results.map((r) => r.nextExpectedRevision)).toEqual([0n, 1n, 2n]);
      for (const r of results) expect(r.firstPosition).toBe(r.lastPosition);
      const events = await toArray(store.readStream('s'));
      expect(events.map((e) => e.type)).toEqual(['A', 'B', 'C']);
      expect(events[1]!.metadata).toEqual({ correlationId: 'c-1', tenant: 't' });
    },
  },
  {
    group,
    name: "subscribe delivers the stream's history then live events, in order, one handler call at a time",
    async run(ctx) {
      const store = await ctx.createStore();
      for (let i = 0; i < 3; i++) await publish(store, 's', { type: 'Counted', data: { i } });
      const received: number[] = [];
      let active = 0;
      let overlapped = false;
      const allArrived = signal();
      const subscription = subscribe(
        store,
        's',
        async (event) => {
          active++;
          if (active > 1) overlapped = true;
          await new Promise<void>((resolve) => setImmediate(resolve));
          received.push((event.data as { i: number }).i);
          active--;
          if (received.length === 6) allArrived.resolve();
        },
        { onError: () => {} },
      );
      for (let i = 3; i < 6; i++) await publish(store, 's', { type: 'Counted', data: { i } });
      await withTimeout(allArrived.promise, deliveryTimeout(ctx), 'delivery of 6 events to the handler');
      await subscription.stop();
      expect(received).toEqual([0, 1, 2, 3, 4, 5]);
      expect(overlapped).toBe(false);
    },
  },
  {
    group,
    name: 'subscribe from a revision starts there (inclusive)',
    async run(ctx) {
      const store = await ctx.createStore();
      for (let i = 0; i < 4; i++) await publish(store, 's', { type: 'Counted', data: { i } });
      const received: bigint[] = [];
      const arrived = signal();
      const subscription = subscribe(
        store,
        's',
        (event) => {
          received.push(event.revision);
          if (received.length === 2) arrived.resolve();
        },
        { fromRevision: 2n, onError: () => {} },
      );
      await withTimeout(arrived.promise, deliveryTimeout(ctx), 'delivery from revision 2');
      await subscription.stop();
      expect(received).toEqual([2n, 3n]);
    },
  },
  {
    group,
    name: 'a handler that throws ends delivery: done rejects with its error, onError receives it, and no later event reaches the handler',
    async run(ctx) {
      const store = await ctx.createStore();
      const failure = new Error('handler failed on purpose');
      const calls: bigint[] = [];
      const reported: unknown[] = [];
      const subscription = subscribe(
        store,
        's',
        (event) => {
          calls.push(event.revision);
          if (event.revision === 1n) throw failure;
        },
        { onError: (error) => reported.push(error) },
      );
      for (let i = 0; i < 3; i++) await publish(store, 's', { type: 'Counted', data: { i } });
      const outcome = await withTimeout(
        subscription.done.then(
          () => 'resolved',
          (error: unknown) => error,
        ),
        deliveryTimeout(ctx),
        'done settling after the handler threw',
      );
      expect(outcome).toBe(failure);
      expect(reported).toEqual([failure]);

      // A fence: once a fresh subscription has seen a later event, the ended one had every chance to.
      const fence = uuidv7();
      await publish(store, 's', { id: fence, type: 'Counted', data: { i: 3 } });
      const probe = store.subscribeToStream('s');
      try {
        await collectUntil(probe, (e) => e.id === fence, { timeoutMs: deliveryTimeout(ctx) });
      } finally {
        await probe.stop();
      }
      expect(calls).toEqual([0n, 1n]);
    },
  },
  {
    group,
    name: 'stop() ends delivery: done resolves and later events are not delivered',
    async run(ctx) {
      const store = await ctx.createStore();
      const calls: bigint[] = [];
      const first = signal();
      const subscription = subscribe(
        store,
        's',
        (event) => {
          calls.push(event.revision);
          first.resolve();
        },
        { onError: () => {} },
      );
      await publish(store, 's', { type: 'Counted', data: { i: 0 } });
      await withTimeout(first.promise, deliveryTimeout(ctx), 'delivery of the first event');
      await subscription.stop();
      await withTimeout(subscription.done, deliveryTimeout(ctx), 'done resolving after stop()');

      const fence = uuidv7();
      await publish(store, 's', { type: 'Counted', data: { i: 1 } });
      await publish(store, 's', { id: fence, type: 'Counted', data: { i: 2 } });
      const probe = store.subscribeToStream('s');
      try {
        await collectUntil(probe, (e) => e.id === fence, { timeoutMs: deliveryTimeout(ctx) });
      } finally {
        await probe.stop();
      }
      expect(calls).toEqual([0n]);
    },
  },
  {
    group,
    name: 'publish validates like append: a defined type is checked, a strict store refuses an undefined type, and nothing is written',
    async run(ctx) {
      const lenient = await createFixtureStore(ctx);
      await expectAnnalsError(() => publish(lenient, 'cart-1', invalidItem('a')), 'EVENT_VALIDATION_FAILED');
      expect(await logIds(lenient)).toEqual([]);
      await publish(lenient, 'cart-1', { type: 'Note', data: { text: 'plain JSON' } });
      expect(await logIds(lenient)).toHaveLength(1);

      const strict = await createFixtureStore(ctx, { strict: true });
      await expectAnnalsError(
        () => publish(strict, 'my-stream', { type: 'MyEvent', data: { text: 'Hello, world!' } }),
        'UNKNOWN_EVENT_TYPE',
      );
      await expectAnnalsError(() => toArray(strict.readStream('my-stream')), 'STREAM_NOT_FOUND');
    },
  },
];
