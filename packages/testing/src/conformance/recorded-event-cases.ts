import type { EventStore, RecordedEvent } from '@annals/core';
import { expect } from 'vitest';
import { collect, deliveryTimeout, settleAll, toArray } from './collect.js';
import { createFixtureStore, ItemAdded } from './conformance-events.js';
import type { ConformanceCase, ConformanceContext } from './conformance-types.js';

const group = 'recorded events';

/** The first event of `streamId` as each read path returns it. */
async function readEverywhere(
  ctx: ConformanceContext,
  store: EventStore,
  streamId: string,
): Promise<[string, RecordedEvent][]> {
  const toStream = store.subscribeToStream(streamId);
  const toAll = store.subscribeToAll({ filter: { streamPrefix: streamId } });
  try {
    const [fromStream, fromAll] = await settleAll(
      collect(toStream, 1, deliveryTimeout(ctx)),
      collect(toAll, 1, deliveryTimeout(ctx)),
    );
    return [
      ['readStream', (await toArray(store.readStream(streamId)))[0]!],
      [
        'readStream backwards',
        (await toArray(store.readStream(streamId, { direction: 'backwards' }))).at(-1)!,
      ],
      ['readAll', (await toArray(store.readAll({ filter: { streamPrefix: streamId } })))[0]!],
      ['subscribeToStream', fromStream[0]!],
      ['subscribeToAll', fromAll[0]!],
    ];
  } finally {
    await settleAll(toStream.stop(), toAll.stop());
  }
}

/** Asserts that `mutate` throws a TypeError (strict-mode assignment to a frozen object). */
function expectRefused(path: string, mutate: () => void): void {
  let thrown: unknown;
  try {
    mutate();
  } catch (error) {
    thrown = error;
  }
  expect(thrown, `changing ${path} of a recorded event must throw`).toBeInstanceOf(TypeError);
}

/** Cases for the shape of recorded events: frozen, JSON data, metadata, recordedAt. */
export const recordedEventCases: readonly ConformanceCase[] = [
  {
    group,
    name: 'recorded events are deeply frozen on every read path: changing them throws and the stored event stays unchanged',
    async run(ctx) {
      const store = await createFixtureStore(ctx);
      await store.append('frozen-1', [
        ItemAdded.create(
          { sku: 'a', quantity: 2, price: { amount: 5, currency: 'EUR' }, tags: ['x'] },
          { metadata: { correlationId: 'c-1', nested: { list: [1, 2] } } },
        ),
      ]);
      const original = (await toArray(store.readStream('frozen-1')))[0]!;
      const originalTime = original.recordedAt.getTime();
      for (const [path, event] of await readEverywhere(ctx, store, 'frozen-1')) {
        const e = event as any;
        for (const part of [
          e,
          e.data,
          e.data.price,
          e.data.tags,
          e.metadata,
          e.metadata.nested,
          e.metadata.nested.list,
        ]) {
          expect(Object.isFrozen(part), `${path}: every object of the event is frozen`).toBe(true);
        }
        expectRefused(`${path} type`, () => {
          e.type = 'Changed';
        });
        expectRefused(`${path} revision`, () => {
          e.revision = 99n;
        });
        expectRefused(`${path} data.sku`, () => {
          e.data.sku = 'changed';
        });
        expectRefused(`${path} data.price.amount`, () => {
          e.data.price.amount = 0;
        });
        expectRefused(`${path} data.tags`, () => {
          e.data.tags.push('y');
        });
        expectRefused(`${path} metadata.correlationId`, () => {
          e.metadata.correlationId = 'c-2';
        });
        expectRefused(`${path} metadata.nested.list`, () => {
          e.metadata.nested.list[0] = 7;
        });
        expectRefused(`${path} data (delete)`, () => {
          delete e.data.sku;
        });
        try {
          e.recordedAt.setTime(0); // a frozen Date still has mutating methods; the store must not share it
        } catch {
          // refusing is fine too
        }
      }
      const reread = (await toArray(store.readStream('frozen-1')))[0]!;
      expect(reread.recordedAt.getTime()).toBe(originalTime);
      expect({ ...reread, recordedAt: undefined }).toEqual({ ...original, recordedAt: undefined });
      expect(reread.data).toEqual({
        sku: 'a',
        quantity: 2,
        price: { amount: 5, currency: 'EUR' },
        tags: ['x'],
      });
      expect(reread.metadata).toEqual({ correlationId: 'c-1', nested: { list: [1, 2] } });
    },
  },
  {
    group,
    name: 'an event reads the same on every read path',
    async run(ctx) {
      const store = await createFixtureStore(ctx);
      await store.append('same-1', [
        { type: 'Note', data: { text: 'same' }, metadata: { causationId: 'cmd-1' } },
      ]);
      const reads = await readEverywhere(ctx, store, 'same-1');
      const [, reference] = reads[0]!;
      for (const [path, event] of reads) {
        expect({ path, event }).toEqual({ path, event: reference });
        expect(event.recordedAt.getTime(), path).toBe(reference.recordedAt.getTime());
      }
    },
  },
  {
    group,
    name: 'recordedAt is a valid Date near the time of the append (no time-zone shift)',
    async run(ctx) {
      const store = await createFixtureStore(ctx);
      const before = Date.now();
      await store.append('timed', [{ type: 'Note', data: {} }]);
      const after = Date.now();
      const [event] = await toArray(store.readStream('timed'));
      expect(event!.recordedAt).toBeInstanceOf(Date);
      const time = event!.recordedAt.getTime();
      expect(Number.isNaN(time)).toBe(false);
      // Generous for a database clock, far below any time-zone offset.
      expect(time).toBeGreaterThanOrEqual(before - 5 * 60_000);
      expect(time).toBeLessThanOrEqual(after + 5 * 60_000);
    },
  },
  {
    group,
    name: 'metadata round-trips: correlationId, causationId and free keys',
    async run(ctx) {
      const store = await createFixtureStore(ctx);
      const metadata = {
        correlationId: 'corr-1',
        causationId: 'cause-1',
        userId: 'user-7',
        attempt: 2,
        trusted: false,
        nothing: null,
        nested: { ip: '127.0.0.1', hops: ['a', 'b'] },
      };
      await store.append('meta-1', [{ type: 'Note', data: {}, metadata }]);
      await store.append('meta-1', [{ type: 'Note', data: {} }]);
      for (const [path, event] of await readEverywhere(ctx, store, 'meta-1')) {
        expect(event.metadata, path).toEqual(metadata);
      }
      const [, withoutMetadata] = await toArray(store.readStream('meta-1'));
      expect(withoutMetadata!.metadata).toEqual({});
    },
  },
  {
    group,
    name: 'data is stored as JSON: it reads back equal to the JSON form of what was appended, and later changes to the appended object do not leak in',
    async run(ctx) {
      const store = await ctx.createStore();
      const data: Record<string, unknown> = {
        text: 'Hello, world!',
        unicode: 'Grüße, 世界 🎉',
        escapes: 'quote " backslash \\ newline \n tab \t',
        numbers: [0, -1, 1.5, 1e-7, Number.MAX_SAFE_INTEGER],
        flags: [true, false],
        nothing: null,
        empty: { object: {}, array: [] },
        nested: { deeper: { deepest: ['x', { y: 1 }] } },
        dropped: undefined,
      };
      const json = JSON.parse(JSON.stringify(data));
      await store.append('json-1', [{ type: 'Rich', data }]);
      (data.nested as { deeper: unknown }).deeper = 'changed after append';
      (data.numbers as number[]).push(42);

      const scalars: unknown[] = ['just text', 42, true, null, [1, 'two']];
      await store.append(
        'json-2',
        scalars.map((value) => ({ type: 'Scalar', data: value })),
      );

      const [rich] = await toArray(store.readStream('json-1'));
      expect(rich!.data).toStrictEqual(json);
      expect('dropped' in (rich!.data as object)).toBe(false);
      expect((await toArray(store.readStream('json-2'))).map((e) => e.data)).toStrictEqual(scalars);
    },
  },
];
