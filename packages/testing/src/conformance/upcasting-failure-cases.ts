import { hasErrorCode } from '@annals/core';
import { expect } from 'vitest';
import { toArray } from './collect.js';
import type { ConformanceCase } from './conformance-types.js';
import { captureError, expectAnnalsError } from './expect-error.js';
import { asV3, credited, firstOf, settledLog, upcastingStore, v1 } from './upcasting-fixtures.js';

const group = 'upcasting';

/**
 * An upcaster that fails (invalid data, a throw) fails every read with `UpcastFailed` naming the
 * event, versions and issues or cause, rather than return bad data.
 */
export const failedUpcastingCases: readonly ConformanceCase[] = [
  {
    group,
    name: 'an upcaster that produces invalid data fails every read path with UpcastFailed naming the event, versions and issues; no bad event is returned',
    async run(ctx) {
      const { store, sabotage } = await upcastingStore(ctx);
      const old = v1('acc-1', 100);
      await store.append('acc-1', [old], { import: true });
      await settledLog(ctx, store, 1);
      sabotage.invalid = true; // a new release ships a bad upcaster over the same stored data

      const reads: [string, () => Promise<unknown>][] = [
        ['readStream', () => toArray(store.readStream('acc-1'))],
        ['readAll', () => toArray(store.readAll())],
        ['readAll by type', () => toArray(store.readAll({ filter: { types: ['Deposited'] } }))],
        ['subscribeToStream', () => firstOf(ctx, store.subscribeToStream('acc-1'))],
        ['subscribeToAll', () => firstOf(ctx, store.subscribeToAll())],
      ];
      for (const [path, read] of reads) {
        const error = await captureError(read);
        if (!hasErrorCode(error, 'UPCAST_FAILED')) {
          throw new Error(`${path}: expected UpcastFailed (UPCAST_FAILED), found ${String(error)}`);
        }
        expect(error, path).toMatchObject({
          eventId: old.id,
          eventType: 'Deposited',
          fromVersion: 1,
          toType: 'Deposited',
          toVersion: 3,
        });
        const issues = (error as unknown as { issues: { path: unknown[] }[] }).issues;
        expect(issues.map((i) => i.path)).toContainEqual(['amount']);
        expect(error.message).toContain(old.id);
        expect(error.message).toContain('v1');
        expect(error.message).toContain('v3');
      }

      sabotage.invalid = false; // the fix ships: the untouched stored data reads again
      expect((await toArray(store.readStream('acc-1'))).map((e) => e.data)).toEqual([asV3('acc-1', 100)]);
    },
  },
  {
    group,
    name: 'an upcaster that throws fails the read with UpcastFailed naming the failing step, with the thrown error as cause',
    async run(ctx) {
      const { store, sabotage } = await upcastingStore(ctx);
      const old = credited('acc-1', 100);
      await store.append('acc-1', [old], { import: true });
      sabotage.throws = true;
      for (const read of [
        () => toArray(store.readStream('acc-1')),
        () => firstOf(ctx, store.subscribeToAll()),
      ]) {
        const error = await expectAnnalsError(read, 'UPCAST_FAILED');
        expect(error).toMatchObject({
          eventId: old.id,
          eventType: 'Credited',
          fromVersion: 1,
          toType: 'Deposited',
        });
        expect(error.message).toContain('sabotaged step');
        expect(error.message).toContain('Deposited v1');
        expect((error.cause as Error).message).toBe('sabotaged step');
      }
    },
  },
];
