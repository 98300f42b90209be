import type { DeadLetter, DeadLetterStore, ProjectionControl } from '@annals/core';
import { describe, expect, it } from 'vitest';
import { expectAnnalsError } from './expect-error.js';

/** Options of {@link runProjectionControlConformance}. */
export interface ProjectionControlConformanceOptions {
  /** Shown in the test names. */
  readonly name: string;
  /**
   * Two handles on one fresh, empty control, as two runners (two nodes) hold them: a pause made
   * through one must be seen through the other. An in-memory control returns the same instance twice.
   */
  createControls(): Promise<readonly [ProjectionControl, ProjectionControl]>;
}

/**
 * Registers the cases every {@link ProjectionControl} must pass: a pause made through one handle is
 * seen through another, is idempotent (the first `pausedAt` stays), is per projection, and ends
 * with `resume`; bad names are refused with `InvalidArgument`.
 *
 * @example
 * ```ts
 * const control = new InMemoryProjectionControl();
 * runProjectionControlConformance({ name: 'InMemoryProjectionControl', createControls: async () => [control, control] });
 * ```
 */
export function runProjectionControlConformance(options: ProjectionControlConformanceOptions): void {
  describe(`${options.name}: projection control conformance`, () => {
    it('a pause made through one handle is seen through the other until it is resumed; pausing twice keeps the first pausedAt', async () => {
      const [a, b] = await options.createControls();
      expect(await b.isPaused('balances')).toBe(false);
      expect(await b.listPaused()).toEqual([]);
      await a.pause('balances');
      expect(await b.isPaused('balances'), 'paused through a, read through b').toBe(true);
      expect(await b.isPaused('orders'), 'another projection').toBe(false);
      const [first] = await b.listPaused();
      expect(first?.name).toBe('balances');
      expect(first?.pausedAt).toBeInstanceOf(Date);
      await b.pause('balances');
      await a.pause('audit');
      const listed = await a.listPaused();
      expect(
        listed.map((p) => p.name),
        'in name order',
      ).toEqual(['audit', 'balances']);
      expect(listed[1]?.pausedAt.getTime(), 'a second pause keeps the first pausedAt').toBe(
        first?.pausedAt.getTime(),
      );
      await b.resume('balances');
      expect(await a.isPaused('balances'), 'resumed through b, read through a').toBe(false);
      await a.resume('balances');
      expect((await a.listPaused()).map((p) => p.name)).toEqual(['audit']);
    });

    it('refuses an empty name, one with the NUL character or a lone surrogate, with InvalidArgument, pausing nothing', async () => {
      const [control] = await options.createControls();
      for (const name of ['', 'balances\u0000', 'balances-\ud800', 7 as unknown as string]) {
        for (const action of [
          () => control.pause(name),
          () => control.resume(name),
          () => control.isPaused(name),
        ]) {
          const error = await expectAnnalsError(action, 'INVALID_ARGUMENT');
          expect(error.message).toContain('paused projection name');
        }
      }
      expect(await control.listPaused()).toEqual([]);
    });
  });
}

/** Options of {@link runDeadLetterStoreConformance}. */
export interface DeadLetterStoreConformanceOptions {
  /** Shown in the test names. */
  readonly name: string;
  /** A fresh, empty dead-letter store for each case. */
  createDeadLetterStore(): DeadLetterStore | Promise<DeadLetterStore>;
}

/**
 * Registers the cases every {@link DeadLetterStore} must pass: recorded letters come back whole with
 * distinct ids, oldest first; `get` and `remove` work by id, `remove` once; unknown ids are no
 * letter; bad letters and ids are refused with `InvalidArgument`. Transactions are the adapter's own to test.
 */
export function runDeadLetterStoreConformance(options: DeadLetterStoreConformanceOptions): void {
  const letter = (n: number, projection = 'cart-owners'): DeadLetter => ({
    projection,
    key: projection,
    eventId: `0190a1b2-c3d4-7e5f-8a9b-${String(n).padStart(12, '0')}`,
    eventType: 'CartOpened',
    streamId: `cart-${n}`,
    position: BigInt(100 + n),
    error: `Error: poison ${n}`,
    ...(n % 2 === 0 ? { stack: `Error: poison ${n}\n    at handler` } : {}),
    attempts: n,
    recordedAt: new Date(`2026-01-0${n}T10:00:00.123Z`),
  });

  describe(`${options.name}: dead-letter store conformance`, () => {
    it('lists recorded letters oldest first with distinct ids; get and remove work by id, remove once', async () => {
      const store = await options.createDeadLetterStore();
      await store.record(letter(1));
      await store.record(letter(2));
      await store.record(letter(3, 'item-counts'));
      const all = await store.list();
      expect(all.map(({ id: _, ...rest }) => rest)).toEqual([letter(1), letter(2), letter(3, 'item-counts')]);
      expect(new Set(all.map((l) => l.id)).size, 'ids are distinct').toBe(3);
      expect((await store.list('item-counts')).map((l) => l.streamId)).toEqual(['cart-3']);
      const [first, second] = all;
      expect(await store.get(second!.id)).toEqual(second);
      expect(await store.remove(second!.id), 'the first removal removes it').toBe(true);
      expect(await store.remove(second!.id), 'a second removal finds nothing').toBe(false);
      expect(await store.get(second!.id)).toBeUndefined();
      expect((await store.list()).map((l) => l.id)).toEqual([first!.id, all[2]!.id]);
    });

    it('an id the store never gave names no letter; an empty or malformed id is refused with InvalidArgument', async () => {
      const store = await options.createDeadLetterStore();
      await store.record(letter(1));
      for (const id of ['999999', 'no-such-letter', '-1', '1e3']) {
        expect(await store.get(id), `get(${id})`).toBeUndefined();
        expect(await store.remove(id), `remove(${id})`).toBe(false);
      }
      for (const id of ['', 'id\u0000', 'id-\ud800', 3 as unknown as string]) {
        await expectAnnalsError(() => store.get(id), 'INVALID_ARGUMENT');
        await expectAnnalsError(() => store.remove(id), 'INVALID_ARGUMENT');
      }
      expect(await store.list()).toHaveLength(1);
    });

    it('refuses a letter with an empty projection name or key, with InvalidArgument, recording nothing', async () => {
      const store = await options.createDeadLetterStore();
      await expectAnnalsError(() => store.record({ ...letter(1), projection: '' }), 'INVALID_ARGUMENT');
      await expectAnnalsError(() => store.record({ ...letter(1), key: '' }), 'INVALID_ARGUMENT');
      expect(await store.list()).toEqual([]);
    });
  });
}
