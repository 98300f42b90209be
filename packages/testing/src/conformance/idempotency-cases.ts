import { publish, TRACE_CONTEXT_METADATA_KEY, uuidv7 } from '@annals/core';
import { expect } from 'vitest';
import { toArray } from './collect.js';
import { added, createFixtureStore, logIds, removed, streamIds } from './conformance-events.js';
import type { ConformanceCase } from './conformance-types.js';
import { expectAnnalsError } from './expect-error.js';

const group = 'idempotency';

/** Cases for re-appending stored event ids. */
export const idempotencyCases: readonly ConformanceCase[] = [
  {
    group,
    name: 'appending a batch of stored ids again returns the original result and writes no duplicate',
    async run(ctx) {
      const store = await createFixtureStore(ctx);
      const batch = [
        added('a', { id: uuidv7() }),
        added('b', { id: uuidv7() }),
        removed('a', { id: uuidv7() }),
      ];
      const original = await store.append('cart-1', batch, { expectedRevision: 'no_stream' });
      const logBefore = await logIds(store);

      const retried = await store.append('cart-1', batch, { expectedRevision: 'no_stream' });
      expect(retried).toEqual(original);
      expect(await logIds(store)).toEqual(logBefore);

      // Still idempotent after the stream and the log moved on (a retry whose first answer was lost).
      await store.append('cart-1', [added('c')], { expectedRevision: 2n });
      await store.append('cart-2', [added('x')]);
      const late = await store.append('cart-1', batch, { expectedRevision: 'no_stream' });
      expect(late).toEqual(original);
      const ids = await logIds(store);
      expect(ids).toHaveLength(5);
      expect(new Set(ids).size).toBe(5);
      expect(await streamIds(store, 'cart-1')).toEqual([...batch.map((e) => e.id), ids[3]]);
    },
  },
  {
    group,
    name: 'a single event retried with the same id, through append or publish, is stored once',
    async run(ctx) {
      const store = await createFixtureStore(ctx);
      const event = added('a', { id: uuidv7() });
      const first = await store.append('cart-1', [event]);
      expect(await store.append('cart-1', [event])).toEqual(first);
      expect(await store.append('cart-1', [event], { expectedRevision: 'any' })).toEqual(first);
      expect(await publish(store, 'cart-1', event)).toEqual(first);

      const published = { type: 'Note', data: { text: 'once' }, id: uuidv7() };
      const result = await publish(store, 'notes', published);
      expect(await publish(store, 'notes', published)).toEqual(result);
      expect(await logIds(store)).toEqual([event.id, published.id]);
    },
  },
  {
    group,
    name: 'the same id with other content (data, type or metadata) raises IdempotencyConflict and writes nothing',
    async run(ctx) {
      const store = await createFixtureStore(ctx);
      const id = uuidv7();
      await store.append('cart-1', [added('a', { id, metadata: { correlationId: 'c-1' } })]);
      const variants = [
        added('other', { id, metadata: { correlationId: 'c-1' } }),
        removed('a', { id }),
        added('a', { id, metadata: { correlationId: 'c-2' } }),
      ];
      for (const variant of variants) {
        const error = await expectAnnalsError(
          () => store.append('cart-1', [variant]),
          'IDEMPOTENCY_CONFLICT',
        );
        expect((error as unknown as { eventId: string }).eventId).toBe(id);
        expect(error.message).toContain(id);
      }
      const events = await toArray(store.readAll());
      expect(events).toHaveLength(1);
      expect(events[0]!.data).toEqual({ sku: 'a', quantity: 1 });
    },
  },
  {
    group,
    name: 'a retry whose metadata differs only in the trace context (another request) returns the original result',
    async run(ctx) {
      const store = await createFixtureStore(ctx);
      const id = uuidv7();
      const traced = (traceparent: string | undefined) =>
        added('a', {
          id,
          metadata: {
            correlationId: 'c-1',
            ...(traceparent === undefined ? {} : { [TRACE_CONTEXT_METADATA_KEY]: { traceparent } }),
          },
        });
      const first = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
      const original = await store.append('cart-1', [traced(first)], { expectedRevision: 'no_stream' });
      const retries = [traced('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'), traced(undefined)];
      for (const retry of retries) {
        expect(await store.append('cart-1', [retry], { expectedRevision: 'no_stream' })).toEqual(original);
      }
      const events = await toArray(store.readAll());
      expect(events.map((e) => e.id)).toEqual([id]);
      expect(
        events[0]!.metadata[TRACE_CONTEXT_METADATA_KEY],
        "the first append's trace context is kept",
      ).toEqual({
        traceparent: first,
      });
      // Any other metadata difference is still a conflict.
      await expectAnnalsError(
        () => store.append('cart-1', [added('a', { id, metadata: { correlationId: 'c-2' } })]),
        'IDEMPOTENCY_CONFLICT',
      );
    },
  },
  {
    group,
    name: 'the same id with equal data and metadata in another key order is the same content: the original result',
    async run(ctx) {
      const store = await createFixtureStore(ctx);
      const id = uuidv7();
      // An undefined type keeps its data as given (a schema would put keys in its own order).
      const original = await store.append('notes', [
        { id, type: 'Note', data: { a: 1, b: { c: [1, 2], d: 'x' } }, metadata: { x: '1', y: '2' } },
      ]);
      const retried = await store.append('notes', [
        { id, type: 'Note', data: { b: { d: 'x', c: [1, 2] }, a: 1 }, metadata: { y: '2', x: '1' } },
      ]);
      expect(retried, 'a retry whose JSON has its keys in another order').toEqual(original);
      expect(await logIds(store)).toEqual([id]);
      // Array order is content.
      await expectAnnalsError(
        () => store.append('notes', [{ id, type: 'Note', data: { a: 1, b: { c: [2, 1], d: 'x' } } }]),
        'IDEMPOTENCY_CONFLICT',
      );
    },
  },
  {
    group,
    name: 'a stored id appended to another stream raises IdempotencyConflict and creates nothing',
    async run(ctx) {
      const store = await createFixtureStore(ctx);
      const event = added('a', { id: uuidv7() });
      await store.append('cart-1', [event]);
      await expectAnnalsError(() => store.append('cart-2', [event]), 'IDEMPOTENCY_CONFLICT');
      await expectAnnalsError(() => toArray(store.readStream('cart-2')), 'STREAM_NOT_FOUND');
      expect(await logIds(store)).toEqual([event.id]);
    },
  },
  {
    group,
    name: 'a batch mixing a stored id with new ids raises IdempotencyConflict and writes nothing',
    async run(ctx) {
      const store = await createFixtureStore(ctx);
      const stored = added('a', { id: uuidv7() });
      await store.append('cart-1', [stored]);
      await expectAnnalsError(
        () => store.append('cart-1', [added('b', { id: uuidv7() }), stored]),
        'IDEMPOTENCY_CONFLICT',
      );
      await expectAnnalsError(
        () => store.append('cart-1', [stored, added('b', { id: uuidv7() })]),
        'IDEMPOTENCY_CONFLICT',
      );
      expect(await logIds(store)).toEqual([stored.id]);
    },
  },
  {
    group,
    name: 'a batch that contains the same id twice is refused with InvalidArgument and writes nothing',
    async run(ctx) {
      const store = await createFixtureStore(ctx);
      const id = uuidv7();
      await expectAnnalsError(
        () => store.append('cart-1', [added('a', { id }), added('a', { id })]),
        'INVALID_ARGUMENT',
      );
      await expectAnnalsError(
        () => store.append('cart-1', [added('a', { id }), added('b'), removed('c', { id })]),
        'INVALID_ARGUMENT',
      );
      await expectAnnalsError(() => toArray(store.readStream('cart-1')), 'STREAM_NOT_FOUND');
      expect(await logIds(store)).toEqual([]);
    },
  },
];
