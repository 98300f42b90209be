import { defineEvent, type EventValidationFailed, type NewEvent, type RecordedEvent } from '@annals/core';
import { expect } from 'vitest';
import { z } from 'zod';
import { collect, deliveryTimeout, toArray } from './collect.js';
import { logIds } from './conformance-events.js';
import type { ConformanceCase } from './conformance-types.js';
import { expectAnnalsError } from './expect-error.js';

const group = 'exact data';

/** A Date carried by a zod codec: an ISO 8601 string in the log, a `Date` in the application. */
const isoDate = z.codec(z.iso.datetime(), z.date(), {
  decode: (text) => new Date(text),
  encode: (date) => date.toISOString(),
});

/** A defined event with a Date field (through `isoDate`) inside a nested object and an array. */
export const MeetingScheduled = defineEvent('MeetingScheduled', {
  schema: z.object({
    title: z.string(),
    at: isoDate,
    slots: z.array(z.object({ from: isoDate })).optional(),
  }),
});

class Money {
  constructor(readonly amount: number) {}
}

/**
 * Values a schema-less event (or metadata) may hold in JavaScript that JSON would change or reject:
 * each is refused where it stands (the second item of an array), with its path, rather than stored
 * as something else.
 */
const inexactValues: readonly { readonly what: string; readonly value: unknown; readonly found: RegExp }[] = [
  { what: 'a Date', value: new Date(0), found: /Date/ },
  { what: 'a Set', value: new Set([1]), found: /Set/ },
  { what: 'a Map', value: new Map([['a', 1]]), found: /Map/ },
  { what: 'NaN', value: Number.NaN, found: /NaN/ },
  { what: 'Infinity', value: Number.POSITIVE_INFINITY, found: /Infinity/ },
  { what: 'a bigint', value: 10n, found: /bigint/ },
  { what: 'a class instance', value: new Money(5), found: /Money/ },
  { what: 'undefined in an array', value: undefined, found: /undefined/ },
  { what: 'a lone surrogate', value: 'pair-\ud800', found: /surrogate/ },
];

/** The path an issue names, as text (`nested.value`). */
function pathOf(error: unknown): string {
  return (error as EventValidationFailed).issues.map((issue) => issue.path.join('.')).join(' | ');
}

/** Cases for data and metadata that must read back exactly as they were validated. */
export const exactDataCases: readonly ConformanceCase[] = [
  {
    group,
    name: 'a Date field carried by a zod codec is stored as JSON and reads back as a Date from readStream, readAll and a subscription',
    async run(ctx) {
      const store = await ctx.createStore({ events: [MeetingScheduled], strict: false });
      const at = new Date('2024-05-06T07:08:09.010Z');
      const from = new Date('2024-05-06T08:00:00.000Z');
      const sub = store.subscribeToAll();
      try {
        // The decoded shape (Dates), as an application holds it, and the encoded one (ISO text).
        await store.append('meeting-1', [
          { type: 'MeetingScheduled', data: { title: 'a', at, slots: [{ from }] } },
          MeetingScheduled.create({ title: 'b', at: at.toISOString() }),
        ]);
        const check = (events: readonly RecordedEvent[], where: string) => {
          expect(events, where).toHaveLength(2);
          const [first, second] = events as [RecordedEvent, RecordedEvent];
          const data = first.data as { at: unknown; slots: { from: unknown }[] };
          expect(data.at, `${where}: data.at`).toBeInstanceOf(Date);
          expect(data.at, `${where}: data.at`).toEqual(at);
          expect(data.slots[0]?.from, `${where}: data.slots[0].from`).toBeInstanceOf(Date);
          expect(data.slots[0]?.from, `${where}: data.slots[0].from`).toEqual(from);
          expect((second.data as { at: unknown }).at, `${where}: second event's data.at`).toEqual(at);
          expect(MeetingScheduled.schema.safeParse(first.data).success, `${where}: decoded data`).toBe(false);
          expect(
            MeetingScheduled.schema.safeParse(z.encode(MeetingScheduled.schema, first.data as never)).success,
            `${where}: the decoded data encodes to valid stored data`,
          ).toBe(true);
        };
        check(await toArray(store.readStream('meeting-1')), 'readStream');
        const backwards = await toArray(store.readStream('meeting-1', { direction: 'backwards' }));
        check(backwards.reverse(), 'readStream backwards');
        check(await toArray(store.readAll()), 'readAll');
        check(await collect(sub, 2, deliveryTimeout(ctx)), 'subscribeToAll');
      } finally {
        await sub.stop();
      }
    },
  },
  {
    group,
    name: 'a value JSON would change or reject (Date, Set, Map, NaN, Infinity, bigint, class instance, undefined in an array, lone surrogate) is refused in data and in metadata with EventValidationFailed naming its path, and nothing is written',
    async run(ctx) {
      const store = await ctx.createStore({ events: [MeetingScheduled], strict: false });
      for (const { what, value, found } of inexactValues) {
        const inData: NewEvent = { type: 'Note', data: { nested: { list: ['ok', value] } } };
        const dataError = await expectAnnalsError(
          () => store.append('inexact-1', [{ type: 'Note', data: { text: 'fine' } }, inData]),
          'EVENT_VALIDATION_FAILED',
        );
        expect(pathOf(dataError), `${what} in data: the issue's path`).toBe('nested.list.1');
        expect(dataError.message, `${what} in data: the message says what was found`).toMatch(found);

        const inMetadata: NewEvent = {
          type: 'Note',
          data: {},
          metadata: { source: { list: ['ok', value] } },
        };
        const metadataError = await expectAnnalsError(
          () => store.append('inexact-1', [inMetadata]),
          'EVENT_VALIDATION_FAILED',
        );
        expect(pathOf(metadataError), `${what} in metadata: the issue's path`).toBe('metadata.source.list.1');
        expect(metadataError.message, `${what} in metadata: the message says what was found`).toMatch(found);
      }
      // In the data of a defined event too, after its schema accepted it (z.any() lets anything through).
      const Loose = defineEvent('Loose', { schema: z.object({ payload: z.any() }) });
      const loose = await ctx.createStore({ events: [Loose] });
      await expectAnnalsError(
        () => loose.append('loose-1', [Loose.create({ payload: new Set([1]) })]),
        'EVENT_VALIDATION_FAILED',
      );
      // A lone surrogate in an object key, and a well-formed pair (an emoji) that is fine.
      await expectAnnalsError(
        () => store.append('inexact-1', [{ type: 'Note', data: { 'key-\udc00': 1 } }]),
        'EVENT_VALIDATION_FAILED',
      );
      expect(await logIds(store), 'nothing was written').toEqual([]);
      expect(await logIds(loose), 'nothing was written').toEqual([]);
      await store.append('exact-1', [{ type: 'Note', data: { text: 'pair-\ud83d\ude00' } }]);
      const [stored] = await toArray(store.readStream('exact-1'));
      expect(stored?.data).toEqual({ text: 'pair-\ud83d\ude00' });
    },
  },
  {
    group,
    name: 'an object member whose value is undefined is stored as absent and -0 as 0, and the schema validates that form (what was validated is what reads back)',
    async run(ctx) {
      const Strict = defineEvent('Strict', { schema: z.object({ marker: z.undefined(), n: z.number() }) });
      const store = await ctx.createStore({ events: [Strict], strict: false });
      // The schema accepts { marker: undefined } but not {}: the stored form is checked, so it is refused.
      await expectAnnalsError(
        () => store.append('exact-1', [{ type: 'Strict', data: { marker: undefined, n: 1 } }]),
        'EVENT_VALIDATION_FAILED',
      );
      await store.append('exact-1', [
        { type: 'Note', data: { a: undefined, b: -0, c: [-0] }, metadata: { who: undefined } },
      ]);
      const read = await toArray(store.readStream('exact-1'));
      const data = read[0]?.data as Record<string, unknown>;
      expect(data, 'an undefined member is absent, -0 reads back as 0').toEqual({ b: 0, c: [0] });
      expect(Object.is(data.b, 0) && Object.is((data.c as number[])[0], 0), '-0 reads back as 0').toBe(true);
      expect('a' in data, 'the undefined member is absent').toBe(false);
      expect(read[0]?.metadata, 'an undefined metadata member is absent').toEqual({});
    },
  },
];
