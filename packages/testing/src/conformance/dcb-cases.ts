import {
  type AppendConditionFailed,
  type EventQuery,
  MAX_TAG_BYTES,
  MAX_TAGS_PER_EVENT,
  type RecordedEvent,
  uuidv7,
} from '@annals/core';
import { expect } from 'vitest';
import { collectUntil, deliveryTimeout, toArray } from './collect.js';
import type { ConformanceCase } from './conformance-types.js';
import {
  AccountRegistered,
  CourseDefined,
  createDcbStore,
  StudentSubscribed,
  withConditions,
} from './dcb-events.js';
import { expectAnnalsError } from './expect-error.js';

const group = 'tags, queries & append conditions';
const requires = withConditions;

const byQuery = (store: { readAll: (o: object) => AsyncIterable<RecordedEvent> }, query: EventQuery) =>
  toArray(store.readAll({ filter: { query } }));

/** Cases for tags on events, reading by query and conditional appends. */
export const dcbCases: readonly ConformanceCase[] = [
  {
    group,
    requires,
    name: 'tags derived by the definition and given at append are stored, read back sorted without duplicates on every read path, and an untagged event has []',
    async run(ctx) {
      const store = await createDcbStore(ctx);
      await store.append('s-1', [
        StudentSubscribed.create({ courseId: 'c1', studentId: 's1' }, { tags: ['extra', 'course:c1'] }),
        { type: 'Untagged', data: { n: 1 } },
      ]);
      const [tagged, untagged] = await toArray(store.readStream('s-1'));
      expect(tagged!.tags).toEqual(['course:c1', 'extra', 'student:s1']);
      expect(Object.isFrozen(tagged!.tags)).toBe(true);
      expect(untagged!.tags).toEqual([]);
      const all = await toArray(store.readAll());
      expect(all.map((e) => e.tags)).toEqual([['course:c1', 'extra', 'student:s1'], []]);
    },
  },
  {
    group,
    requires,
    name: 'an event id re-appended with the same tags (in any order) returns the original result; with a tag more or a tag fewer it raises IdempotencyConflict and writes nothing',
    async run(ctx) {
      const store = await createDcbStore(ctx);
      const id = uuidv7();
      const event = StudentSubscribed.create({ courseId: 'c1', studentId: 's1' }, { id, tags: ['extra'] });
      const original = await store.append('s-1', [event]);
      const again = await store.append('s-1', [{ ...event, tags: ['student:s1', 'extra', 'course:c1'] }]);
      expect(again, 'the same tags in another order are the same event').toEqual(original);
      const other = StudentSubscribed.create({ courseId: 'c1', studentId: 's1' }, { tags: ['other'] });
      for (const tags of [['other'], []]) {
        const variant = { ...other, id, tags };
        await expectAnnalsError(() => store.append('s-1', [variant]), 'IDEMPOTENCY_CONFLICT');
      }
      const all = await toArray(store.readAll());
      expect(all.map((e) => [e.id, e.tags])).toEqual([[id, ['course:c1', 'extra', 'student:s1']]]);
    },
  },
  {
    group,
    requires,
    name: 'a tag with the NUL character, a lone surrogate, more than MAX_TAG_BYTES, or an event with more than MAX_TAGS_PER_EVENT tags is refused with InvalidArgument and nothing is written',
    async run(ctx) {
      const store = await createDcbStore(ctx);
      const bad: unknown[][] = [
        ['a\u0000b'],
        ['x\ud800'],
        ['é'.repeat(MAX_TAG_BYTES / 2 + 1)],
        [''],
        [42],
        Array.from({ length: MAX_TAGS_PER_EVENT + 1 }, (_, i) => `t${i}`),
      ];
      for (const tags of bad) {
        const error = await expectAnnalsError(
          () => store.append('s-1', [{ type: 'Note', data: {}, tags: tags as string[] }]),
          'INVALID_ARGUMENT',
        );
        expect(error.message).toMatch(/tag/i);
      }
      await expectAnnalsError(
        () =>
          store
            .readAll({ filter: { query: { items: [{ tags: ['a\u0000'] }] } } })
            [Symbol.asyncIterator]()
            .next(),
        'INVALID_ARGUMENT',
      );
      expect(await toArray(store.readAll())).toEqual([]);
      // The longest allowed tag and the most tags per event are kept.
      const longest = 'é'.repeat(MAX_TAG_BYTES / 2);
      const most = Array.from({ length: MAX_TAGS_PER_EVENT - 1 }, (_, i) => `t${String(i).padStart(2, '0')}`);
      await store.append('s-1', [{ type: 'Note', data: {}, tags: [longest, ...most] }]);
      const [event] = await toArray(store.readAll());
      expect(event!.tags).toEqual([...most, longest]);
    },
  },
  {
    group,
    requires,
    name: 'tags holding quotes, %, _, backslashes, braces and commas are kept and matched literally, never as patterns',
    async run(ctx) {
      const store = await createDcbStore(ctx);
      const tricky = ['a"b', "it's", '50%', 'a_c', 'back\\slash', '{x,y}', 'NULL', ' spaced '];
      for (const tag of [...tricky, 'abc', '50', 'axc', 'backslash']) {
        await store.append(`s-${tag}`, [{ type: 'Note', data: { tag }, tags: [tag] }]);
      }
      for (const tag of tricky) {
        const found = await byQuery(store, { items: [{ tags: [tag] }] });
        expect(found.map((e) => (e.data as { tag: string }).tag)).toEqual([tag]);
        expect(found[0]!.tags).toEqual([tag]);
        const error = await expectAnnalsError(
          () =>
            store.append('other', [{ type: 'Note', data: {} }], {
              condition: { failIfEventsMatch: { items: [{ tags: [tag] }] } },
            }),
          'APPEND_CONDITION_FAILED',
        );
        expect(error.message).toContain(JSON.stringify([tag]));
      }
      expect(await byQuery(store, { items: [{ tags: ['a%'] }] })).toEqual([]);
      expect(await byQuery(store, { items: [{ tags: ['a.c'] }] })).toEqual([]);
    },
  },
  {
    group,
    requires,
    name: "readAll with a query returns, in log order with positions, the events whose type is one of an item's types and which carry all its tags, items combined with OR",
    async run(ctx) {
      const store = await createDcbStore(ctx);
      await store.append('course-c1', [CourseDefined.create({ courseId: 'c1', capacity: 2 })]);
      await store.append('course-c2', [CourseDefined.create({ courseId: 'c2', capacity: 2 })]);
      await store.append('sub-1', [StudentSubscribed.create({ courseId: 'c1', studentId: 's1' })]);
      await store.append('sub-2', [StudentSubscribed.create({ courseId: 'c2', studentId: 's1' })]);
      await store.append('sub-3', [StudentSubscribed.create({ courseId: 'c1', studentId: 's2' })]);
      const all = await toArray(store.readAll());
      const pick = (...indexes: number[]) => indexes.map((i) => all[i]!.id);
      const ids = async (query: EventQuery) => (await byQuery(store, query)).map((e) => e.id);
      expect(await ids({ items: [{ tags: ['course:c1'] }] })).toEqual(pick(0, 2, 4));
      expect(await ids({ items: [{ types: ['StudentSubscribed'], tags: ['course:c1'] }] })).toEqual(
        pick(2, 4),
      );
      expect(await ids({ items: [{ tags: ['course:c1', 'student:s1'] }] })).toEqual(pick(2));
      expect(await ids({ items: [{ types: ['CourseDefined'] }] })).toEqual(pick(0, 1));
      expect(
        await ids({ items: [{ types: ['CourseDefined'], tags: ['course:c2'] }, { tags: ['student:s2'] }] }),
      ).toEqual(pick(1, 4));
      expect(
        await ids({ items: [{ types: ['CourseDefined', 'StudentSubscribed'], tags: ['student:s1'] }] }),
      ).toEqual(pick(2, 3));
      expect(await ids({ items: [{}] })).toEqual(pick(0, 1, 2, 3, 4));
      const from = await toArray(
        store.readAll({
          fromPosition: all[3]!.position,
          filter: { query: { items: [{ tags: ['course:c1'] }] } },
        }),
      );
      expect(from.map((e) => [e.id, e.position])).toEqual([[all[4]!.id, all[4]!.position]]);
      await expectAnnalsError(
        () =>
          store
            .readAll({ filter: { query: { items: [] } } })
            [Symbol.asyncIterator]()
            .next(),
        'INVALID_ARGUMENT',
      );
    },
  },
  {
    group,
    requires,
    name: 'subscribeToAll with a query delivers the matching events, those appended before and after it started, and no others',
    async run(ctx) {
      const store = await createDcbStore(ctx);
      await store.append('sub-1', [StudentSubscribed.create({ courseId: 'c1', studentId: 's1' })]);
      await store.append('sub-2', [StudentSubscribed.create({ courseId: 'c2', studentId: 's1' })]);
      const subscription = store.subscribeToAll({ filter: { query: { items: [{ tags: ['course:c1'] }] } } });
      const delivered = collectUntil(subscription, (e) => e.streamId === 'sub-4', {
        timeoutMs: deliveryTimeout(ctx),
      });
      await store.append('sub-3', [StudentSubscribed.create({ courseId: 'c2', studentId: 's2' })]);
      await store.append('sub-4', [StudentSubscribed.create({ courseId: 'c1', studentId: 's2' })]);
      const events = await delivered;
      await subscription.stop();
      expect(events.map((e) => e.streamId)).toEqual(['sub-1', 'sub-4']);
    },
  },
  {
    group,
    requires,
    name: 'a condition whose query matches an event after `after` fails with AppendConditionFailed (APPEND_CONDITION_FAILED, naming the query) and writes nothing; matches at or before `after` do not count',
    async run(ctx) {
      const store = await createDcbStore(ctx);
      const first = await store.append('acc-1', [
        AccountRegistered.create({ accountId: '1', username: 'ann' }),
      ]);
      const query: EventQuery = { items: [{ types: ['AccountRegistered'], tags: ['username:ann'] }] };
      const error = (await expectAnnalsError(
        () =>
          store.append('acc-2', [AccountRegistered.create({ accountId: '2', username: 'ann' })], {
            condition: { failIfEventsMatch: query },
          }),
        'APPEND_CONDITION_FAILED',
      )) as AppendConditionFailed;
      expect(error.message).toContain('username:ann');
      expect(error.query).toEqual(query);
      expect(await toArray(store.readAll())).toHaveLength(1);
      // Read up to the first event: it is known, so it does not conflict.
      await store.append('acc-1', [{ type: 'Note', data: {}, tags: ['username:ann'] }], {
        condition: { failIfEventsMatch: query, after: first.lastPosition },
      });
      // A query that matches nothing lets the append through.
      await store.append('acc-3', [AccountRegistered.create({ accountId: '3', username: 'bob' })], {
        condition: {
          failIfEventsMatch: { items: [{ types: ['AccountRegistered'], tags: ['username:bob'] }] },
        },
      });
      expect((await toArray(store.readAll())).map((e) => e.streamId)).toEqual(['acc-1', 'acc-1', 'acc-3']);
    },
  },
  {
    group,
    requires,
    name: 'a condition and an expected revision in one call are both enforced: either failing writes nothing',
    async run(ctx) {
      const store = await createDcbStore(ctx);
      await store.append('course-c1', [CourseDefined.create({ courseId: 'c1', capacity: 1 })]);
      const free = { failIfEventsMatch: { items: [{ tags: ['course:c9'] }] } };
      await expectAnnalsError(
        () =>
          store.append('course-c1', [{ type: 'Note', data: {} }], { expectedRevision: 5n, condition: free }),
        'CONCURRENCY_CONFLICT',
      );
      const taken = { failIfEventsMatch: { items: [{ tags: ['course:c1'] }] } };
      await expectAnnalsError(
        () =>
          store.append('course-c1', [{ type: 'Note', data: {} }], { expectedRevision: 0n, condition: taken }),
        'APPEND_CONDITION_FAILED',
      );
      expect(await toArray(store.readAll())).toHaveLength(1);
      const ok = await store.append('course-c1', [{ type: 'Note', data: {} }], {
        expectedRevision: 0n,
        condition: free,
      });
      expect(ok.nextExpectedRevision).toBe(1n);
    },
  },
  {
    group,
    requires,
    name: "appendToStreams writes to several streams all or nothing, under one condition and each write's expected revision",
    async run(ctx) {
      const store = await createDcbStore(ctx);
      expect(store.appendToStreams).toBeTypeOf('function');
      const result = await store.appendToStreams!(
        [
          {
            streamId: 'a',
            events: [{ type: 'Note', data: { n: 1 }, tags: ['t:1'] }],
            expectedRevision: 'no_stream',
          },
          {
            streamId: 'b',
            events: [
              { type: 'Note', data: { n: 2 } },
              { type: 'Note', data: { n: 3 } },
            ],
          },
        ],
        { condition: { failIfEventsMatch: { items: [{ tags: ['t:1'] }] } } },
      );
      expect(result.streams.map((s) => [s.streamId, s.nextExpectedRevision])).toEqual([
        ['a', 0n],
        ['b', 1n],
      ]);
      const before = await toArray(store.readAll());
      expect(before).toHaveLength(3);
      expect(result.firstPosition).toBe(before[0]!.position);
      expect(result.lastPosition).toBe(before[2]!.position);
      await expectAnnalsError(
        () =>
          store.appendToStreams!(
            [
              { streamId: 'c', events: [{ type: 'Note', data: {} }] },
              { streamId: 'd', events: [{ type: 'Note', data: {} }] },
            ],
            { condition: { failIfEventsMatch: { items: [{ tags: ['t:1'] }] } } },
          ),
        'APPEND_CONDITION_FAILED',
      );
      await expectAnnalsError(
        () =>
          store.appendToStreams!([
            { streamId: 'c', events: [{ type: 'Note', data: {} }] },
            { streamId: 'a', events: [{ type: 'Note', data: {} }], expectedRevision: 'no_stream' },
          ]),
        'CONCURRENCY_CONFLICT',
      );
      expect(await toArray(store.readAll())).toHaveLength(3);
    },
  },
];
