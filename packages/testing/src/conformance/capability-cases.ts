import { defaultCapabilities } from '@annals/core/adapter';
import { expect } from 'vitest';
import { createFixtureStore, logIds, note } from './conformance-events.js';
import type { ConformanceCase } from './conformance-types.js';
import { expectAnnalsError } from './expect-error.js';

const group = 'capabilities';

/** Cases for the capability flags and the optional behaviour they announce. */
export const capabilityCases: readonly ConformanceCase[] = [
  {
    group,
    name: 'the store declares the capabilities the suite runs with',
    async run(ctx) {
      const store = await ctx.createStore();
      expect({ ...defaultCapabilities, ...store.capabilities }).toEqual(ctx.capabilities);
    },
  },
  {
    group,
    name: 'an event larger than maxEventBytes (in its data or its metadata) raises EventTooLarge and nothing of its batch is written',
    requires: (capabilities) => capabilities.maxEventBytes !== undefined,
    async run(ctx) {
      const limit = ctx.capabilities.maxEventBytes!;
      const store = await createFixtureStore(ctx);
      await store.append('big', [note('small')]);
      const oversized = [
        { type: 'Note', data: { blob: 'x'.repeat(limit + 1) } },
        { type: 'Note', data: {}, metadata: { blob: 'x'.repeat(limit + 1) } },
      ];
      for (const event of oversized) {
        const error = await expectAnnalsError(
          () => store.append('big', [note('fits'), event], { expectedRevision: 0n }),
          'EVENT_TOO_LARGE',
        );
        expect(error).toMatchObject({ eventType: 'Note', limit });
        expect((error as unknown as { size: number }).size).toBeGreaterThan(limit);
      }
      expect(await logIds(store)).toHaveLength(1);
    },
  },
  {
    group,
    name: 'maxEventBytes counts data and metadata together, in UTF-8 bytes: an event of exactly the limit is stored, one byte more is refused',
    requires: (capabilities) => capabilities.maxEventBytes !== undefined,
    async run(ctx) {
      const limit = ctx.capabilities.maxEventBytes!;
      const store = await createFixtureStore(ctx);
      // `{"blob":"` + text + `"}` as data, `{}` as metadata; "é" takes two bytes in UTF-8.
      const text = (bytes: number) => 'x'.repeat(bytes % 2) + 'é'.repeat(Math.floor(bytes / 2));
      const exact = { type: 'Note', data: { blob: text(limit - 13) } };
      const size = (event: { data: unknown; metadata?: unknown }) =>
        new TextEncoder().encode(JSON.stringify(event.data)).length +
        new TextEncoder().encode(JSON.stringify(event.metadata ?? {})).length;
      expect(size(exact), 'the test event is exactly at the limit').toBe(limit);
      await store.append('sized', [exact]);
      const over = { type: 'Note', data: { blob: `${text(limit - 13)}x` } };
      await expectAnnalsError(() => store.append('sized', [over]), 'EVENT_TOO_LARGE');
      // Each part fits alone; together they do not.
      const half = text(Math.floor(limit / 2));
      const split = { type: 'Note', data: { blob: half }, metadata: { blob: half } };
      expect(size(split)).toBeGreaterThan(limit);
      await expectAnnalsError(() => store.append('sized', [split]), 'EVENT_TOO_LARGE');
      expect(await logIds(store)).toHaveLength(1);
    },
  },
];
