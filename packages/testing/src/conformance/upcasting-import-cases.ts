import { UpcasterRegistry } from '@annals/core';
import { expect } from 'vitest';
import { toArray } from './collect.js';
import type { ConformanceCase } from './conformance-types.js';
import { expectAnnalsError } from './expect-error.js';
import { credited, current, Deposited, upcastingStore, v1 } from './upcasting-fixtures.js';

const group = 'upcasting';

/**
 * Upcasting on the way in: a broken chain refused when the store is created, and the import path, the
 * only one that writes old versions, refusing what could not be read and writing nothing then.
 */
export const importUpcastingCases: readonly ConformanceCase[] = [
  {
    group,
    name: 'a broken upcaster chain is refused when the store is created, with UpcasterChainInvalid',
    async run(ctx) {
      const missingStep = new UpcasterRegistry().register({
        type: 'Deposited',
        from: 1,
        to: 2,
        up: (d) => d,
      });
      const error = await expectAnnalsError(
        () => ctx.createStore({ events: [Deposited], upcasters: missingStep }),
        'UPCASTER_CHAIN_INVALID',
      );
      expect(error.message).toContain('Deposited');
      expect(error.message).toContain('v2');
    },
  },
  {
    group,
    name: 'an older schemaVersion is written only by an import: a plain append refuses it, and writes nothing',
    async run(ctx) {
      const { store } = await upcastingStore(ctx);
      const error = await expectAnnalsError(
        () => store.append('acc-1', [current('acc-1', 1), v1('acc-1', 2)]),
        'EVENT_VALIDATION_FAILED',
      );
      expect(error.message).toContain('import');
      await expectAnnalsError(
        () => store.append('acc-1', [credited('acc-1', 3)], { expectedRevision: 'any' }),
        'EVENT_VALIDATION_FAILED',
      );
      await expectAnnalsError(() => toArray(store.readStream('acc-1')), 'STREAM_NOT_FOUND');
      expect(await toArray(store.readAll())).toEqual([]);
    },
  },
  {
    group,
    name: 'an import refuses a version above the current one or below 1, and writes nothing',
    async run(ctx) {
      const { store } = await upcastingStore(ctx);
      for (const schemaVersion of [4, 0, 1.5]) {
        await expectAnnalsError(
          () =>
            store.append('acc-1', [{ ...current('acc-1', 1), schemaVersion }], {
              import: true,
            }),
          'EVENT_VALIDATION_FAILED',
        );
      }
      await expectAnnalsError(() => toArray(store.readStream('acc-1')), 'STREAM_NOT_FOUND');
    },
  },
  {
    group,
    name: 'an import whose old data does not upcast to a valid current event is refused with UpcastFailed, and writes nothing',
    async run(ctx) {
      const { store } = await upcastingStore(ctx);
      const bad = v1('acc-1', 'ten' as unknown as number);
      const error = await expectAnnalsError(
        () => store.append('acc-1', [v1('acc-1', 1), bad], { import: true }),
        'UPCAST_FAILED',
      );
      expect(error).toMatchObject({
        eventId: bad.id,
        eventType: 'Deposited',
        fromVersion: 1,
        toType: 'Deposited',
        toVersion: 3,
      });
      const issues = (error as unknown as { issues: { path: unknown[] }[] }).issues;
      expect(issues.map((i) => i.path)).toContainEqual(['amount', 'value']);
      expect(error.message).toContain(bad.id);
      expect(error.message).toContain('amount.value');
      await expectAnnalsError(() => toArray(store.readStream('acc-1')), 'STREAM_NOT_FOUND');
      expect(await toArray(store.readAll())).toEqual([]);
    },
  },
];
