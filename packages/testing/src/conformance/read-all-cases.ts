import {
  type AppendResult,
  type EventFilter,
  type EventStore,
  type NewEvent,
  type RecordedEvent,
  readAllLogStats,
} from '@annals/core';
import { MAX_POSITION } from '@annals/core/adapter';
import { expect } from 'vitest';
import { collect, deliveryTimeout, toArray } from './collect.js';
import { added, createFixtureStore, note, removed } from './conformance-events.js';
import type { ConformanceCase, ConformanceContext } from './conformance-types.js';
import { expectAnnalsError, expectRefusedSubscription } from './expect-error.js';

const group = 'readAll & filters';

interface Log {
  readonly store: EventStore;
  /** Every event, read back, in append order. */
  readonly all: RecordedEvent[];
  readonly results: AppendResult[];
  /** The number of events of each appended batch. */
  readonly sizes: number[];
}

/** Appends a mix of types to `order-*`, `invoice-*` and `my-order-*` streams, one batch after another. */
async function mixedLog(ctx: ConformanceContext): Promise<Log> {
  const store = await createFixtureStore(ctx);
  const batches: [string, NewEvent[]][] = [
    ['order-1', [added('o1-a'), added('o1-b')]],
    ['invoice-1', [note('i1-a')]],
    ['order-2', [removed('o2-a')]],
    ['my-order-1', [added('m1-a')]],
    ['order-1', [removed('o1-c'), note('o1-d')]],
    ['invoice-1', [added('i1-b'), removed('i1-c')]],
    ['order-2', [added('o2-b')]],
  ];
  const results: AppendResult[] = [];
  for (const [streamId, events] of batches) results.push(await store.append(streamId, events));
  const all = await toArray(store.readAll());
  return { store, all, results, sizes: batches.map(([, events]) => events.length) };
}

const label = (e: RecordedEvent) => `${e.streamId}:${e.type}:${e.revision}`;

/** Cases for `readAll` and its filters. */
export const readAllCases: readonly ConformanceCase[] = [
  {
    group,
    name: 'an empty store reads an empty log',
    async run(ctx) {
      const store = await createFixtureStore(ctx);
      expect(await toArray(store.readAll())).toEqual([]);
      expect(await toArray(store.readAll({ fromPosition: 0n, filter: { types: ['ItemAdded'] } }))).toEqual(
        [],
      );
    },
  },
  {
    group,
    name: 'reads every event of every stream once, in append order, with strictly increasing positions matching the append results',
    async run(ctx) {
      const { all, results, sizes } = await mixedLog(ctx);
      expect(all.map(label)).toEqual([
        'order-1:ItemAdded:0',
        'order-1:ItemAdded:1',
        'invoice-1:Note:0',
        'order-2:ItemRemoved:0',
        'my-order-1:ItemAdded:0',
        'order-1:ItemRemoved:2',
        'order-1:Note:3',
        'invoice-1:ItemAdded:1',
        'invoice-1:ItemRemoved:2',
        'order-2:ItemAdded:1',
      ]);
      expect(new Set(all.map((e) => e.id)).size).toBe(all.length);
      for (let i = 1; i < all.length; i++) expect(all[i]!.position > all[i - 1]!.position).toBe(true);
      let index = 0;
      for (const [i, result] of results.entries()) {
        const batch = all.slice(index, index + sizes[i]!);
        expect(batch[0]!.position).toBe(result.firstPosition);
        expect(batch.at(-1)!.position).toBe(result.lastPosition);
        expect(batch.at(-1)!.revision).toBe(result.nextExpectedRevision);
        index += sizes[i]!;
      }
      expect(index).toBe(all.length);
    },
  },
  {
    group,
    name: 'fromPosition is inclusive (bigint or number); past the last position reads nothing',
    async run(ctx) {
      const { store, all } = await mixedLog(ctx);
      for (const k of [0, 3, all.length - 1]) {
        const position = all[k]!.position;
        expect((await toArray(store.readAll({ fromPosition: position }))).map((e) => e.id)).toEqual(
          all.slice(k).map((e) => e.id),
        );
      }
      const fourth = all[4]!.position;
      expect((await toArray(store.readAll({ fromPosition: Number(fourth) }))).map((e) => e.id)).toEqual(
        all.slice(4).map((e) => e.id),
      );
      expect(await toArray(store.readAll({ fromPosition: all.at(-1)!.position + 1n }))).toEqual([]);
      expect((await toArray(store.readAll({ fromPosition: 0n }))).map((e) => e.id)).toEqual(
        all.map((e) => e.id),
      );
    },
  },
  {
    group,
    name: 'maxCount limits a read, and paging by (last position + 1, maxCount) reads the whole log exactly once',
    async run(ctx) {
      const { store, all } = await mixedLog(ctx);
      expect((await toArray(store.readAll({ maxCount: 3 }))).map((e) => e.id)).toEqual(
        all.slice(0, 3).map((e) => e.id),
      );
      expect(
        (await toArray(store.readAll({ fromPosition: all[2]!.position, maxCount: 4 }))).map((e) => e.id),
      ).toEqual(all.slice(2, 6).map((e) => e.id));
      const paged: string[] = [];
      let from = 0n;
      for (;;) {
        const page = await toArray(store.readAll({ fromPosition: from, maxCount: 3 }));
        expect(page.length).toBeLessThanOrEqual(3);
        if (page.length === 0) break;
        paged.push(...page.map((e) => e.id));
        from = page.at(-1)!.position + 1n;
      }
      expect(paged).toEqual(all.map((e) => e.id));
    },
  },
  {
    group,
    name: 'a types filter keeps only the given event types, in log order',
    async run(ctx) {
      const { store, all } = await mixedLog(ctx);
      const removedOnly = await toArray(store.readAll({ filter: { types: ['ItemRemoved'] } }));
      expect(removedOnly.map(label)).toEqual(all.filter((e) => e.type === 'ItemRemoved').map(label));
      expect(removedOnly).toHaveLength(3);
      const two = await toArray(store.readAll({ filter: { types: ['Note', 'ItemRemoved'] } }));
      expect(two.map(label)).toEqual(all.filter((e) => e.type !== 'ItemAdded').map(label));
      expect(await toArray(store.readAll({ filter: { types: ['NeverWritten'] } }))).toEqual([]);
    },
  },
  {
    group,
    name: 'a streamPrefix filter keeps only streams whose id starts with the prefix (not merely contains it)',
    async run(ctx) {
      const { store, all } = await mixedLog(ctx);
      const orders = await toArray(store.readAll({ filter: { streamPrefix: 'order-' } }));
      expect(orders.map(label)).toEqual(all.filter((e) => e.streamId.startsWith('order-')).map(label));
      expect(orders).toHaveLength(6);
      expect(orders.some((e) => e.streamId === 'my-order-1')).toBe(false);
      const exact = await toArray(store.readAll({ filter: { streamPrefix: 'invoice-1' } }));
      expect(exact.map(label)).toEqual([
        'invoice-1:Note:0',
        'invoice-1:ItemAdded:1',
        'invoice-1:ItemRemoved:2',
      ]);
    },
  },
  {
    group,
    name: 'stream prefixes and types holding %, _, a backslash or a quote match only themselves, in readAll and subscribeToAll',
    async run(ctx) {
      const store = await createFixtureStore(ctx);
      // Each decoy (what a LIKE pattern would also match) comes before the stream it imitates.
      const streams = ['pctAx-2', 'pct%x-1', 'underXscore-2', 'under_score-1', 'back\\slash-1', "quote'd-1"];
      for (const streamId of streams) await store.append(streamId, [note(streamId)]);
      await store.append('types', [
        { type: 'Odd_%Type', data: {} },
        { type: 'OddXYType', data: {} },
      ]);
      const expectations: [string, string[]][] = [
        ['%', []],
        ['_', []],
        ['pct%', ['pct%x-1']],
        ['under_', ['under_score-1']],
        ['back\\', ['back\\slash-1']],
        ["quote'", ["quote'd-1"]],
      ];
      for (const [streamPrefix, wanted] of expectations) {
        const read = await toArray(store.readAll({ filter: { streamPrefix } }));
        expect(
          read.map((e) => e.streamId),
          `readAll with streamPrefix ${JSON.stringify(streamPrefix)}`,
        ).toEqual(wanted);
      }
      const odd = await toArray(store.readAll({ filter: { types: ['Odd_%Type'] } }));
      expect(odd.map((e) => e.type)).toEqual(['Odd_%Type']);
      const subscription = store.subscribeToAll({ filter: { streamPrefix: 'under_' } });
      try {
        const [first] = await collect(subscription, 1, deliveryTimeout(ctx));
        expect(first!.streamId).toBe('under_score-1');
      } finally {
        await subscription.stop();
      }
    },
  },
  {
    group,
    name: 'types and streamPrefix together keep events matching both; maxCount and fromPosition apply to the filtered log',
    async run(ctx) {
      const { store, all } = await mixedLog(ctx);
      const filter = { types: ['ItemAdded'], streamPrefix: 'order-' };
      const expected = all.filter((e) => e.type === 'ItemAdded' && e.streamId.startsWith('order-'));
      expect(expected.map(label)).toEqual([
        'order-1:ItemAdded:0',
        'order-1:ItemAdded:1',
        'order-2:ItemAdded:1',
      ]);
      expect((await toArray(store.readAll({ filter }))).map(label)).toEqual(expected.map(label));
      expect((await toArray(store.readAll({ filter, maxCount: 2 }))).map(label)).toEqual(
        expected.slice(0, 2).map(label),
      );
      const from = all[1]!.position + 1n;
      expect((await toArray(store.readAll({ filter, fromPosition: from }))).map(label)).toEqual([
        'order-2:ItemAdded:1',
      ]);
      expect(
        (
          await toArray(
            store.readAll({ filter: { types: ['Note'] }, fromPosition: all[3]!.position, maxCount: 1 }),
          )
        ).map(label),
      ).toEqual(['order-1:Note:3']);
    },
  },
  {
    group,
    name: 'fromPosition below 0 and maxCount below 1 are refused with InvalidArgument',
    async run(ctx) {
      const { store } = await mixedLog(ctx);
      for (const options of [
        { fromPosition: -1n },
        { fromPosition: -2 },
        { maxCount: 0 },
        { maxCount: -3 },
      ]) {
        await expectAnnalsError(() => toArray(store.readAll(options)), 'INVALID_ARGUMENT');
      }
    },
  },
  {
    group,
    name: 'fromPosition above MAX_POSITION (2^63 - 1) is refused with InvalidArgument by readAll and subscribeToAll; MAX_POSITION itself reads nothing',
    async run(ctx) {
      const { store } = await mixedLog(ctx);
      for (const fromPosition of [MAX_POSITION + 1n, 2n ** 64n, 10n ** 30n]) {
        const error = await expectAnnalsError(
          () => toArray(store.readAll({ fromPosition })),
          'INVALID_ARGUMENT',
        );
        expect(error.message, 'the message names the option').toContain('fromPosition');
        expect(error.message, 'the message names the highest position').toContain(String(MAX_POSITION));
        await expectAnnalsError(
          () => toArray(store.readAll({ fromPosition, filter: { types: ['ItemAdded'] } })),
          'INVALID_ARGUMENT',
        );
        await expectRefusedSubscription(
          () => store.subscribeToAll({ fromPosition }),
          'INVALID_ARGUMENT',
          ctx,
        );
      }
      expect(await toArray(store.readAll({ fromPosition: MAX_POSITION }))).toEqual([]);
    },
  },
  {
    group,
    name: 'the log stats a projection runner uses (the store’s logStats, else readAllLogStats) count the events readAll returns after a position, with the same filter, and give the last one’s position and the oldest recordedAt',
    async run(ctx) {
      const { store, all } = await mixedLog(ctx);
      const stats = store.logStats?.() ?? readAllLogStats(store);
      const after = all[2]!.position;
      const filters: (EventFilter | undefined)[] = [
        undefined,
        { types: ['ItemAdded'] },
        { streamPrefix: 'order-' },
        { types: ['ItemRemoved'], streamPrefix: 'order-' },
        { types: ['NoSuchType'] },
      ];
      for (const filter of filters) {
        const read = await toArray(
          store.readAll({ fromPosition: after + 1n, ...(filter ? { filter } : {}) }),
        );
        const pending = await stats.pending({ afterPosition: after, ...(filter ? { filter } : {}) });
        const what = `pending after ${after} with ${JSON.stringify(filter)}`;
        expect(pending.count, `${what}: count`).toBe(read.length);
        expect(pending.lastPosition, `${what}: last position`).toBe(read.at(-1)?.position);
        const oldest = read.reduce<Date | undefined>(
          (min, e) => (min === undefined || e.recordedAt < min ? e.recordedAt : min),
          undefined,
        );
        expect(pending.oldestRecordedAt?.getTime(), `${what}: oldest recordedAt`).toBe(oldest?.getTime());
      }
      const atEnd = await stats.pending({ afterPosition: all.at(-1)!.position });
      expect(atEnd.count, 'nothing pending after the last event').toBe(0);
      expect(atEnd.lastPosition).toBeUndefined();
    },
  },
  {
    group,
    name: 'a malformed filter (types not an array of strings, streamPrefix not a string, a NUL character) is refused with InvalidArgument by readAll and subscribeToAll',
    async run(ctx) {
      const store = await createFixtureStore(ctx);
      await store.append('order-1', [added('a')]);
      const filters = [
        { types: 'ItemAdded' },
        { types: [1] },
        { streamPrefix: 7 },
        { streamPrefix: 'order\u0000' },
        { types: ['Item\u0000Added'] },
        'ItemAdded',
      ] as unknown as EventFilter[];
      for (const filter of filters) {
        const error = await expectAnnalsError(() => toArray(store.readAll({ filter })), 'INVALID_ARGUMENT');
        expect(error.message, `the message names the filter (${JSON.stringify(filter)})`).toContain('filter');
        await expectAnnalsError(async () => {
          const subscription = store.subscribeToAll({ filter });
          try {
            for await (const _ of subscription) return;
          } finally {
            await subscription.stop();
          }
        }, 'INVALID_ARGUMENT');
      }
    },
  },
];
