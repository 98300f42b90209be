import { expect } from 'vitest';
import { toArray } from './collect.js';
import { added, createFixtureStore, note } from './conformance-events.js';
import type { ConformanceCase } from './conformance-types.js';
import { expectAnnalsError } from './expect-error.js';

const group = 'import';

/** Cases for copying a log: an import keeps each event's recordedAt, and refuses bad timestamps. */
export const importCases: readonly ConformanceCase[] = [
  {
    group,
    name: 'an import keeps the recordedAt of each event, on every read path, continuing a stream at its revision',
    async run(ctx) {
      const store = await createFixtureStore(ctx);
      const times = [
        new Date('2021-03-04T05:06:07.891Z'),
        new Date('2021-03-04T05:06:07.892Z'),
        new Date('2020-12-31T23:59:59.999Z'),
      ];
      await store.append('copied-1', [added('a'), note('b')], {
        import: true,
        recordedAt: times.slice(0, 2),
        expectedRevision: 'no_stream',
      });
      await store.append('copied-1', [added('c')], {
        import: true,
        recordedAt: times.slice(2),
        expectedRevision: 1n,
      });
      const stream = await toArray(store.readStream('copied-1'));
      expect(stream.map((e) => [e.revision, e.recordedAt.toISOString()])).toEqual([
        [0n, times[0]!.toISOString()],
        [1n, times[1]!.toISOString()],
        [2n, times[2]!.toISOString()],
      ]);
      const all = await toArray(store.readAll({ filter: { streamPrefix: 'copied-' } }));
      expect(all.map((e) => e.recordedAt.toISOString())).toEqual(times.map((t) => t.toISOString()));
      // Without recordedAt, an import records the time of the append, as any append does.
      const before = Date.now();
      await store.append('copied-2', [added('d')], { import: true });
      const [fresh] = await toArray(store.readStream('copied-2'));
      expect(fresh!.recordedAt.getTime()).toBeGreaterThanOrEqual(before - 60_000);
    },
  },
  {
    group,
    name: 'recordedAt without import, of the wrong length, invalid, before 1970 or more than a minute ahead is refused with InvalidArgument, writing nothing',
    async run(ctx) {
      const store = await createFixtureStore(ctx);
      const ahead = new Date(Date.now() + 10 * 60_000);
      const refused: [string, object][] = [
        ['without import', { recordedAt: [new Date('2021-01-01T00:00:00Z')] }],
        ['too few', { import: true, recordedAt: [] }],
        ['too many', { import: true, recordedAt: [new Date(0), new Date(0)] }],
        ['not a Date', { import: true, recordedAt: ['2021-01-01T00:00:00Z'] }],
        ['an invalid Date', { import: true, recordedAt: [new Date(Number.NaN)] }],
        ['before 1970', { import: true, recordedAt: [new Date('1969-12-31T23:59:59Z')] }],
        ['ten minutes ahead', { import: true, recordedAt: [ahead] }],
      ];
      for (const [what, options] of refused) {
        const error = await expectAnnalsError(
          () => store.append('refused-1', [added('a')], options),
          'INVALID_ARGUMENT',
        );
        expect(error.message, what).toContain('recordedAt');
      }
      expect(await toArray(store.readAll()), 'nothing was written').toEqual([]);
    },
  },
];
