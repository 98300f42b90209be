import { type NewEvent, publish } from '@annals/core';
import { expect } from 'vitest';
import { toArray } from './collect.js';
import {
  added,
  conformanceEvents,
  createFixtureStore,
  invalidItem,
  logIds,
  note,
  streamIds,
} from './conformance-events.js';
import type { ConformanceCase } from './conformance-types.js';
import { expectAnnalsError, expectRefusedSubscription } from './expect-error.js';

const group = 'atomic batches & validation';

/** Cases for all-or-nothing batches and validation on append. */
export const batchCases: readonly ConformanceCase[] = [
  {
    group,
    name: 'the NUL character is refused in a stream id, a type, data and metadata, the same way by every store, and nothing of the batch is written',
    async run(ctx) {
      const store = await ctx.createStore();
      await expectAnnalsError(() => store.append('cart\u0000x', [note('a')]), 'INVALID_ARGUMENT');
      await expectAnnalsError(() => toArray(store.readStream('cart\u0000x')), 'INVALID_ARGUMENT');
      await expectAnnalsError(
        () => store.append('cart-1', [note('a'), { type: 'Bad\u0000Type', data: {} }]),
        'EVENT_VALIDATION_FAILED',
      );
      await expectAnnalsError(
        () => store.append('cart-1', [note('a'), { type: 'Note', data: { text: 'a\u0000b' } }]),
        'EVENT_VALIDATION_FAILED',
      );
      await expectAnnalsError(
        () => store.append('cart-1', [{ type: 'Note', data: {}, metadata: { who: '\u0000' } }]),
        'EVENT_VALIDATION_FAILED',
      );
      expect(await logIds(store)).toEqual([]);
      // A backslash followed by "u0000" is ordinary text, not NUL.
      await store.append('cart-1', [{ type: 'Note', data: { text: '\\u0000' } }]);
      const [stored] = await toArray(store.readStream('cart-1'));
      expect(stored?.data).toEqual({ text: '\\u0000' });
    },
  },
  {
    group,
    name: 'a stream id, type or filter that is not well-formed UTF-16 (a lone surrogate) is refused on writes, reads and subscriptions, so two such ids never become one stream',
    async run(ctx) {
      const store = await ctx.createStore();
      // A database keeps text as UTF-8, where both lone surrogates would become U+FFFD: one stream.
      for (const streamId of ['pair-\ud800', 'pair-\udbff', '\udc00-tail', 'pair-\ude00\ud83d']) {
        const error = await expectAnnalsError(() => store.append(streamId, [note('a')]), 'INVALID_ARGUMENT');
        expect(error.message, 'the message says what is wrong').toContain('surrogate');
        await expectAnnalsError(() => publish(store, streamId, note('a')), 'INVALID_ARGUMENT');
        await expectAnnalsError(() => toArray(store.readStream(streamId)), 'INVALID_ARGUMENT');
        await expectRefusedSubscription(() => store.subscribeToStream(streamId), 'INVALID_ARGUMENT', ctx);
      }
      await expectAnnalsError(
        () => store.append('cart-1', [note('a'), { type: 'Bad\ud800Type', data: {} }]),
        'EVENT_VALIDATION_FAILED',
      );
      for (const filter of [{ streamPrefix: 'pair-\ud800' }, { types: ['Note', 'Bad\udfffType'] }]) {
        await expectAnnalsError(() => toArray(store.readAll({ filter })), 'INVALID_ARGUMENT');
        await expectRefusedSubscription(() => store.subscribeToAll({ filter }), 'INVALID_ARGUMENT', ctx);
      }
      expect(await logIds(store)).toEqual([]);

      // Surrogate pairs (an emoji) are well-formed: kept exactly, in ids, types and filters.
      await store.append('pair-\ud83d\ude00', [{ type: 'Smile\ud83d\ude00', data: {} }]);
      await store.append('pair-\ud83d\ude01', [note('b')]);
      const [smile] = await toArray(store.readStream('pair-\ud83d\ude00'));
      expect(smile).toMatchObject({ streamId: 'pair-\ud83d\ude00', type: 'Smile\ud83d\ude00' });
      const byPrefix = await toArray(store.readAll({ filter: { streamPrefix: 'pair-\ud83d\ude01' } }));
      expect(byPrefix.map((e) => e.streamId)).toEqual(['pair-\ud83d\ude01']);
    },
  },
  {
    group,
    name: 'a batch with one invalid event writes nothing: not the valid events before it, no revision, nothing in the global log',
    async run(ctx) {
      const store = await createFixtureStore(ctx);
      await store.append('cart-1', [added('a')]);
      const before = await toArray(store.readAll());

      await expectAnnalsError(
        () => store.append('cart-1', [added('b'), added('c'), invalidItem('d')], { expectedRevision: 0n }),
        'EVENT_VALIDATION_FAILED',
      );
      expect(await toArray(store.readAll())).toEqual(before);
      expect(await streamIds(store, 'cart-1')).toHaveLength(1);

      const next = await store.append('cart-1', [added('b')], { expectedRevision: 0n });
      expect(next.nextExpectedRevision).toBe(1n);
    },
  },
  {
    group,
    name: 'a failing batch on a new stream does not create the stream',
    async run(ctx) {
      const store = await createFixtureStore(ctx);
      await expectAnnalsError(
        () => store.append('cart-1', [added('a'), invalidItem('b')], { expectedRevision: 'no_stream' }),
        'EVENT_VALIDATION_FAILED',
      );
      await expectAnnalsError(() => toArray(store.readStream('cart-1')), 'STREAM_NOT_FOUND');
      expect(await logIds(store)).toEqual([]);
      const created = await store.append('cart-1', [added('a')], { expectedRevision: 'no_stream' });
      expect(created.nextExpectedRevision).toBe(0n);
    },
  },
  {
    group,
    name: 'EventValidationFailed names the event type and stream and lists each schema issue with its path',
    async run(ctx) {
      const store = await createFixtureStore(ctx);
      const error = await expectAnnalsError(
        () =>
          store.append('cart-1', [
            {
              type: 'ItemAdded',
              data: { sku: 42, quantity: 1.5, price: { amount: 'ten', currency: 'EURO' } },
            },
          ]),
        'EVENT_VALIDATION_FAILED',
      );
      const details = error as unknown as {
        eventType: string;
        streamId: string;
        issues: readonly { path: readonly (string | number)[]; message: string; code: string }[];
      };
      expect(details.eventType).toBe('ItemAdded');
      expect(details.streamId).toBe('cart-1');
      const paths = details.issues.map((i) => i.path.join('.'));
      expect([...paths].sort()).toEqual(['price.amount', 'price.currency', 'quantity', 'sku']);
      for (const issue of details.issues) {
        expect(issue.message.length).toBeGreaterThan(0);
        expect(issue.code.length).toBeGreaterThan(0);
      }
      expect(error.message).toContain('ItemAdded');
      expect(error.message).toContain('cart-1');
      expect(error.message).toContain('price.amount');
      expect(await logIds(store)).toEqual([]);
    },
  },
  {
    group,
    name: 'a strict store refuses an undefined event type with UnknownEventType and writes nothing of its batch',
    async run(ctx) {
      const store = await createFixtureStore(ctx, { strict: true });
      await store.append('cart-1', [added('a')]);
      const error = await expectAnnalsError(
        () => store.append('cart-1', [added('b'), { type: 'Unheard', data: { text: 'hi' } }]),
        'UNKNOWN_EVENT_TYPE',
      );
      expect((error as unknown as { eventType: string }).eventType).toBe('Unheard');
      expect(error.message).toContain('Unheard');
      expect(await streamIds(store, 'cart-1')).toHaveLength(1);

      await expectAnnalsError(() => store.append('cart-2', [note('x')]), 'UNKNOWN_EVENT_TYPE');
      await expectAnnalsError(() => toArray(store.readStream('cart-2')), 'STREAM_NOT_FOUND');
      expect(await logIds(store)).toHaveLength(1);
    },
  },
  {
    group,
    name: 'a store given event definitions is strict by default: an undefined type (a typo) is refused with UnknownEventType suggesting the defined name; strict: false stores it; a store given no definitions accepts any type',
    async run(ctx) {
      const store = await ctx.createStore({ events: conformanceEvents });
      const typo = { type: 'ItmeAdded', data: { sku: 'b', quantity: 1 } };
      const error = await expectAnnalsError(
        () => store.append('cart-1', [added('a'), typo]),
        'UNKNOWN_EVENT_TYPE',
      );
      expect((error as unknown as { eventType: string }).eventType).toBe('ItmeAdded');
      expect(error.message, 'the message suggests the closest defined type').toContain(
        'Did you mean ItemAdded?',
      );
      await expectAnnalsError(() => publish(store, 'cart-1', typo), 'UNKNOWN_EVENT_TYPE');
      await expectAnnalsError(() => store.append('notes', [note('a')]), 'UNKNOWN_EVENT_TYPE');
      expect(await logIds(store), 'nothing of a refused batch is written').toEqual([]);
      await store.append('cart-1', [added('a')]);

      const lenient = await ctx.createStore({ events: conformanceEvents, strict: false });
      await lenient.append('cart-1', [typo]);
      expect((await toArray(lenient.readStream('cart-1')))[0]?.type).toBe('ItmeAdded');

      for (const bare of [await ctx.createStore(), await ctx.createStore({ events: [] })]) {
        await publish(bare, 'my-stream', { type: 'MyEvent', data: { text: 'hi' } });
        expect((await toArray(bare.readStream('my-stream')))[0]?.type).toBe('MyEvent');
      }
    },
  },
  {
    group,
    name: 'a non-strict store stores an undefined type as plain JSON and still validates the defined types',
    async run(ctx) {
      const store = await createFixtureStore(ctx);
      await store.append('notes', [{ type: 'Note', data: { text: 'hi', list: [1, 'two', null] } }]);
      const [stored] = await toArray(store.readStream('notes'));
      expect(stored).toMatchObject({ type: 'Note', schemaVersion: 1, streamId: 'notes', revision: 0n });
      expect(stored!.data).toEqual({ text: 'hi', list: [1, 'two', null] });
      await expectAnnalsError(() => store.append('notes', [invalidItem('a')]), 'EVENT_VALIDATION_FAILED');

      const bare = await ctx.createStore();
      await bare.append('anything', [{ type: 'WhateverHappened', data: { n: 1 } }]);
      expect((await toArray(bare.readStream('anything')))[0]!.data).toEqual({ n: 1 });
    },
  },
  {
    group,
    name: "the stored data of a defined type is the schema's output (defaults filled in)",
    async run(ctx) {
      const store = await createFixtureStore(ctx);
      await store.append('cart-1', [{ type: 'ItemAdded', data: { sku: 'a' } }]);
      const [event] = await toArray(store.readStream('cart-1'));
      expect(event!.data).toEqual({ sku: 'a', quantity: 1 });
    },
  },
  {
    group,
    name: 'an event whose id is not a UUID is refused (issue path id) and nothing of its batch is written',
    async run(ctx) {
      const store = await createFixtureStore(ctx);
      const error = await expectAnnalsError(
        () => store.append('cart-1', [added('a'), added('b', { id: 'not-a-uuid' })]),
        'EVENT_VALIDATION_FAILED',
      );
      const issues = (error as unknown as { issues: { path: unknown[] }[] }).issues;
      expect(issues.map((i) => i.path)).toEqual([['id']]);
      expect(await logIds(store)).toEqual([]);
    },
  },
  {
    group,
    name: 'data or metadata that JSON cannot represent is refused and nothing of its batch is written',
    async run(ctx) {
      const store = await createFixtureStore(ctx);
      const circular: Record<string, unknown> = { name: 'loop' };
      circular.self = circular;
      const bad: NewEvent[] = [
        { type: 'Note', data: { amount: 10n } },
        { type: 'Note', data: undefined },
        { type: 'Note', data: circular },
        { type: 'Note', data: {}, metadata: { trace: 1n } },
        { type: 'Note', data: {}, metadata: 'not an object' as never },
      ];
      for (const event of bad) {
        await expectAnnalsError(() => store.append('notes', [note('ok'), event]), 'EVENT_VALIDATION_FAILED');
      }
      expect(await logIds(store)).toEqual([]);
    },
  },
  {
    group,
    name: 'an event without a type name, or that is not an object, is refused and nothing of its batch is written',
    async run(ctx) {
      const store = await createFixtureStore(ctx);
      for (const type of ['', 42, undefined]) {
        await expectAnnalsError(
          () => store.append('notes', [note('ok'), { type: type as never, data: {} }]),
          'EVENT_VALIDATION_FAILED',
        );
      }
      await expectAnnalsError(() => store.append('notes', [note('ok'), null as never]), 'INVALID_ARGUMENT');
      expect(await logIds(store)).toEqual([]);
    },
  },
  {
    group,
    name: "a defined event at another schemaVersion than its definition's is refused (issue path schemaVersion)",
    async run(ctx) {
      const store = await createFixtureStore(ctx);
      for (const schemaVersion of [0, 2]) {
        for (const importing of [false, true]) {
          const error = await expectAnnalsError(
            () =>
              store.append('cart-1', [{ ...added('a'), schemaVersion }], {
                ...(importing ? { import: true } : {}),
              }),
            'EVENT_VALIDATION_FAILED',
          );
          const issues = (error as unknown as { issues: { path: unknown[] }[] }).issues;
          expect(issues.map((i) => i.path)).toEqual([['schemaVersion']]);
        }
      }
      expect(await logIds(store)).toEqual([]);
    },
  },
];
