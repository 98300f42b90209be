import { defaultCapabilities } from '@annals/core';
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
    name: 'an event larger than maxEventBytes (data or metadata) raises EventTooLarge and nothing of its batch is written',
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
];
