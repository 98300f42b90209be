import { isAnnalsError, isConcurrencyConflict, isUuid, publish, uuidv7 } from '@annals/core';
import { MAX_REVISION, MAX_STREAM_ID_BYTES } from '@annals/core/adapter';
import { expect } from 'vitest';
import { toArray } from './collect.js';
import { added, createFixtureStore, logIds, note, streamIds } from './conformance-events.js';
import type { ConformanceCase } from './conformance-types.js';
import { expectAnnalsError, expectConcurrencyConflict, expectRefusedSubscription } from './expect-error.js';

const group = 'append & expected revision';

/** A UUID v7: version nibble 7, RFC 9562 variant. */
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/** Cases for `append` and every `expectedRevision` variant. */
export const appendCases: readonly ConformanceCase[] = [
  {
    group,
    name: 'a first append numbers the stream from revision 0 and returns the last revision and the positions of the batch',
    async run(ctx) {
      const store = await createFixtureStore(ctx);
      const first = await store.append('cart-1', [added('a'), added('b'), added('c')], {
        expectedRevision: 'no_stream',
      });
      expect(typeof first.nextExpectedRevision).toBe('bigint');
      expect(typeof first.firstPosition).toBe('bigint');
      expect(typeof first.lastPosition).toBe('bigint');
      expect(first.nextExpectedRevision).toBe(2n);
      expect(first.firstPosition < first.lastPosition).toBe(true);

      const events = await toArray(store.readStream('cart-1'));
      expect(events.map((e) => e.revision)).toEqual([0n, 1n, 2n]);
      expect(events.map((e) => (e.data as { sku: string }).sku)).toEqual(['a', 'b', 'c']);
      expect(events[0]!.position).toBe(first.firstPosition);
      expect(events[2]!.position).toBe(first.lastPosition);

      const second = await store.append('cart-1', [added('d')], {
        expectedRevision: first.nextExpectedRevision,
      });
      expect(second.nextExpectedRevision).toBe(3n);
      expect(second.firstPosition).toBe(second.lastPosition);
      expect(second.firstPosition > first.lastPosition).toBe(true);
    },
  },
  {
    group,
    name: "'no_stream' creates a stream, and on an existing stream raises ConcurrencyConflict and writes nothing",
    async run(ctx) {
      const store = await createFixtureStore(ctx);
      const created = await store.append('cart-1', [added('a')], { expectedRevision: 'no_stream' });
      expect(created.nextExpectedRevision).toBe(0n);

      await expectConcurrencyConflict(
        () => store.append('cart-1', [added('b'), added('c')], { expectedRevision: 'no_stream' }),
        { streamId: 'cart-1', expected: 'no_stream', actual: 0n },
      );
      expect(await streamIds(store, 'cart-1')).toHaveLength(1);
      expect(await logIds(store)).toHaveLength(1);
    },
  },
  {
    group,
    name: "'stream_exists' on a missing stream raises ConcurrencyConflict (actual 'no_stream') and creates nothing; on an existing stream it appends",
    async run(ctx) {
      const store = await createFixtureStore(ctx);
      await expectConcurrencyConflict(
        () => store.append('cart-1', [added('a')], { expectedRevision: 'stream_exists' }),
        { streamId: 'cart-1', expected: 'stream_exists', actual: 'no_stream' },
      );
      await expectAnnalsError(() => toArray(store.readStream('cart-1')), 'STREAM_NOT_FOUND');
      expect(await logIds(store)).toEqual([]);

      await store.append('cart-1', [added('a')], { expectedRevision: 'no_stream' });
      const result = await store.append('cart-1', [added('b')], { expectedRevision: 'stream_exists' });
      expect(result.nextExpectedRevision).toBe(1n);
      expect(await streamIds(store, 'cart-1')).toHaveLength(2);
    },
  },
  {
    group,
    name: 'an exact bigint revision appends when it is the last revision; a stale or future one raises ConcurrencyConflict and writes nothing',
    async run(ctx) {
      const store = await createFixtureStore(ctx);
      await store.append('cart-1', [added('a'), added('b'), added('c')]);

      for (const expected of [1n, 0n, 3n, 5n]) {
        await expectConcurrencyConflict(
          () => store.append('cart-1', [added('x')], { expectedRevision: expected }),
          { streamId: 'cart-1', expected, actual: 2n },
        );
      }
      expect(await streamIds(store, 'cart-1')).toHaveLength(3);

      const result = await store.append('cart-1', [added('d')], { expectedRevision: 2n });
      expect(result.nextExpectedRevision).toBe(3n);
      const revisions = (await toArray(store.readStream('cart-1'))).map((e) => e.revision);
      expect(revisions).toEqual([0n, 1n, 2n, 3n]);

      await expectConcurrencyConflict(() => store.append('cart-2', [added('a')], { expectedRevision: 0n }), {
        streamId: 'cart-2',
        expected: 0n,
        actual: 'no_stream',
      });
      await expectAnnalsError(() => toArray(store.readStream('cart-2')), 'STREAM_NOT_FOUND');
      expect(await logIds(store)).toHaveLength(4);
    },
  },
  {
    group,
    name: 'an exact revision given as a number behaves like the bigint',
    async run(ctx) {
      const store = await createFixtureStore(ctx);
      await store.append('cart-1', [added('a'), added('b')]);
      const result = await store.append('cart-1', [added('c')], { expectedRevision: 1 });
      expect(result.nextExpectedRevision).toBe(2n);

      await expectConcurrencyConflict(() => store.append('cart-1', [added('x')], { expectedRevision: 0 }), {
        streamId: 'cart-1',
        expected: 0n,
        actual: 2n,
      });
      await expectConcurrencyConflict(() => store.append('cart-1', [added('x')], { expectedRevision: 7 }), {
        streamId: 'cart-1',
        expected: 7n,
        actual: 2n,
      });
      await expectConcurrencyConflict(() => store.append('cart-2', [added('x')], { expectedRevision: 0 }), {
        streamId: 'cart-2',
        expected: 0n,
        actual: 'no_stream',
      });
      expect(await logIds(store)).toHaveLength(3);
    },
  },
  {
    group,
    name: "'any', and no expected revision at all, append to a new or an existing stream",
    async run(ctx) {
      const store = await createFixtureStore(ctx);
      expect((await store.append('a', [added('1')], { expectedRevision: 'any' })).nextExpectedRevision).toBe(
        0n,
      );
      expect((await store.append('a', [added('2')], { expectedRevision: 'any' })).nextExpectedRevision).toBe(
        1n,
      );
      expect((await store.append('b', [added('1')])).nextExpectedRevision).toBe(0n);
      expect((await store.append('b', [added('2'), added('3')], {})).nextExpectedRevision).toBe(2n);
      expect(await streamIds(store, 'a')).toHaveLength(2);
      expect(await streamIds(store, 'b')).toHaveLength(3);
    },
  },
  {
    group,
    name: 'a ConcurrencyConflict is recognised by isConcurrencyConflict, has code CONCURRENCY_CONFLICT and names stream, expected and actual',
    async run(ctx) {
      const store = await createFixtureStore(ctx);
      await store.append('account-7', [
        added('a'),
        added('b'),
        added('c'),
        added('d'),
        added('e'),
        added('f'),
      ]);
      let caught: unknown;
      try {
        await store.append('account-7', [added('x')], { expectedRevision: 3n });
      } catch (error) {
        caught = error;
      }
      expect(isConcurrencyConflict(caught), `isConcurrencyConflict(${String(caught)})`).toBe(true);
      expect(isAnnalsError(caught), `isAnnalsError(${String(caught)})`).toBe(true);
      expect(caught).toBeInstanceOf(Error);
      expect(caught).toMatchObject({
        code: 'CONCURRENCY_CONFLICT',
        streamId: 'account-7',
        expected: 3n,
        actual: 5n,
      });
      const message = (caught as Error).message;
      expect(message).toContain('account-7');
      expect(message).toContain('3');
      expect(message).toContain('5');
      expect(isConcurrencyConflict(new Error('Expected revision 3 of stream account-7, found 5'))).toBe(
        false,
      );
    },
  },
  {
    group,
    name: 'after a refused append the stream is unchanged and an append with the actual revision continues it without a gap',
    async run(ctx) {
      const store = await createFixtureStore(ctx);
      const first = await store.append('cart-1', [added('a'), added('b')]);
      const before = await toArray(store.readAll());
      await expectConcurrencyConflict(
        () => store.append('cart-1', [added('x'), added('y')], { expectedRevision: 0n }),
        { streamId: 'cart-1', expected: 0n, actual: 1n },
      );
      expect(await toArray(store.readAll())).toEqual(before);

      const retry = await store.append('cart-1', [added('c')], { expectedRevision: 1n });
      expect(retry.nextExpectedRevision).toBe(2n);
      expect(retry.firstPosition > first.lastPosition).toBe(true);
      const events = await toArray(store.readStream('cart-1'));
      expect(events.map((e) => e.revision)).toEqual([0n, 1n, 2n]);
      expect(events.map((e) => (e.data as { sku: string }).sku)).toEqual(['a', 'b', 'c']);
    },
  },
  {
    group,
    name: 'an expected revision outside the contract (negative, fractional, unknown word) raises InvalidArgument and writes nothing',
    async run(ctx) {
      const store = await createFixtureStore(ctx);
      await store.append('cart-1', [added('a')]);
      for (const expectedRevision of [-1n, -1, 1.5, Number.NaN, 'latest', null]) {
        await expectAnnalsError(
          () => store.append('cart-1', [added('x')], { expectedRevision: expectedRevision as never }),
          'INVALID_ARGUMENT',
        );
      }
      expect(await logIds(store)).toHaveLength(1);
    },
  },
  {
    group,
    name: 'an empty batch is refused with InvalidArgument and creates no stream',
    async run(ctx) {
      const store = await createFixtureStore(ctx);
      await expectAnnalsError(() => store.append('cart-1', []), 'INVALID_ARGUMENT');
      await expectAnnalsError(
        () => store.append('cart-1', [], { expectedRevision: 'no_stream' }),
        'INVALID_ARGUMENT',
      );
      await expectAnnalsError(() => toArray(store.readStream('cart-1')), 'STREAM_NOT_FOUND');
      await store.append('cart-2', [added('a')]);
      await expectAnnalsError(() => store.append('cart-2', [], { expectedRevision: 0n }), 'INVALID_ARGUMENT');
      expect(await logIds(store)).toHaveLength(1);
    },
  },
  {
    group,
    name: 'a stream id that is not a non-empty string is refused with InvalidArgument',
    async run(ctx) {
      const store = await createFixtureStore(ctx);
      for (const streamId of ['', 42, undefined]) {
        await expectAnnalsError(() => store.append(streamId as never, [added('a')]), 'INVALID_ARGUMENT');
      }
      expect(await logIds(store)).toEqual([]);
    },
  },
  {
    group,
    name: `a stream id of up to MAX_STREAM_ID_BYTES (${MAX_STREAM_ID_BYTES}) UTF-8 bytes is stored and read back; a longer one is refused with InvalidArgument naming the limit and the length, on writes and reads`,
    async run(ctx) {
      const store = await createFixtureStore(ctx);
      // 'é' is two UTF-8 bytes and '😀' four, so the limit counts bytes, not characters.
      const atLimit = [
        'é'.repeat(MAX_STREAM_ID_BYTES / 2),
        `${'😀'.repeat(MAX_STREAM_ID_BYTES / 4 - 1)}abcd`,
        'x'.repeat(MAX_STREAM_ID_BYTES),
      ];
      for (const streamId of atLimit) {
        await store.append(streamId, [added('a')], { expectedRevision: 'no_stream' });
        const [event] = await toArray(store.readStream(streamId));
        expect(event?.streamId, 'a stream id at the limit reads back exactly').toBe(streamId);
      }
      const tooLong = [
        [`${'é'.repeat(MAX_STREAM_ID_BYTES / 2)}x`, MAX_STREAM_ID_BYTES + 1],
        ['😀'.repeat(MAX_STREAM_ID_BYTES / 4 + 1), MAX_STREAM_ID_BYTES + 4],
        // Past what a database index entry can hold.
        ['x'.repeat(3000), 3000],
        ['x'.repeat(100_000), 100_000],
      ] as const;
      for (const [streamId, bytes] of tooLong) {
        const error = await expectAnnalsError(() => store.append(streamId, [added('a')]), 'INVALID_ARGUMENT');
        expect(error.message, 'the message names the limit').toContain(`${MAX_STREAM_ID_BYTES} bytes`);
        expect(error.message, 'the message names the length found').toContain(`${bytes} bytes`);
        expect(error.message.length, 'the message does not repeat a huge id').toBeLessThan(500);
        await expectAnnalsError(() => publish(store, streamId, added('a')), 'INVALID_ARGUMENT');
        await expectAnnalsError(() => toArray(store.readStream(streamId)), 'INVALID_ARGUMENT');
        await expectRefusedSubscription(() => store.subscribeToStream(streamId), 'INVALID_ARGUMENT', ctx);
      }
      expect(await logIds(store)).toHaveLength(atLimit.length);
    },
  },
  {
    group,
    name: `an expected revision above MAX_REVISION (2^63 - 1) raises InvalidArgument and writes nothing; MAX_REVISION itself is a valid revision the stream is not at (ConcurrencyConflict)`,
    async run(ctx) {
      const store = await createFixtureStore(ctx);
      await store.append('cart-1', [added('a')]);
      for (const expectedRevision of [MAX_REVISION + 1n, 2n ** 64n, 2n ** 64n + 1n, 10n ** 30n]) {
        const error = await expectAnnalsError(
          () => store.append('cart-1', [added('x')], { expectedRevision }),
          'INVALID_ARGUMENT',
        );
        expect(error.message, 'the message names the option').toContain('expectedRevision');
        expect(error.message, 'the message names the highest revision').toContain(String(MAX_REVISION));
        await expectAnnalsError(
          () => store.append('cart-2', [added('x')], { expectedRevision }),
          'INVALID_ARGUMENT',
        );
      }
      await expectConcurrencyConflict(
        () => store.append('cart-1', [added('x')], { expectedRevision: MAX_REVISION }),
        { streamId: 'cart-1', expected: MAX_REVISION, actual: 0n },
      );
      expect(await logIds(store)).toHaveLength(1);
    },
  },
  {
    group,
    name: 'events without an id get distinct UUID v7 ids; ids the caller supplies are kept',
    async run(ctx) {
      const store = await createFixtureStore(ctx);
      const before = Date.now();
      await store.append('cart-1', [added('a'), added('b'), note('c')]);
      const after = Date.now();
      const callerV7 = uuidv7();
      const callerV4 = 'b3f1c0de-4a5b-4c6d-8e7f-0123456789ab';
      await store.append('cart-1', [added('d', { id: callerV7 }), added('e', { id: callerV4 })]);

      const events = await toArray(store.readStream('cart-1'));
      const generated = events.slice(0, 3).map((e) => e.id);
      for (const id of generated) {
        expect(id).toMatch(UUID_V7);
        const ms = Number.parseInt(id.replaceAll('-', '').slice(0, 12), 16);
        expect(ms).toBeGreaterThanOrEqual(before - 60_000);
        expect(ms).toBeLessThanOrEqual(after + 60_000);
      }
      expect(new Set(generated).size).toBe(3);
      expect(events.slice(3).map((e) => e.id)).toEqual([callerV7, callerV4]);
      expect(events.every((e) => isUuid(e.id))).toBe(true);
    },
  },
];
