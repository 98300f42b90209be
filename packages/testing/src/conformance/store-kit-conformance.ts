import { type CheckpointStore, isCheckpointConflict, type Snapshot, type SnapshotStore } from '@annals/core';
import { MAX_KEY_BYTES, MAX_POSITION, MAX_REVISION, MAX_STREAM_ID_BYTES } from '@annals/core/adapter';
import { describe, expect, it } from 'vitest';
import { expectAnnalsError } from './expect-error.js';

/** A snapshot store with the optional `delete` both built-in stores have. */
type SnapshotStoreUnderTest = SnapshotStore & { delete?(streamId: string): Promise<void> };

/** Options of {@link runSnapshotStoreConformance}. */
export interface SnapshotStoreConformanceOptions {
  /** Shown in the test names. */
  readonly name: string;
  /** A fresh, empty snapshot store for each case. */
  createSnapshotStore(): SnapshotStoreUnderTest | Promise<SnapshotStoreUnderTest>;
}

/**
 * Registers the cases every {@link SnapshotStore} must pass: a round trip that keeps `bigint` and
 * `Date` values, a later snapshot replacing an earlier one while an older one never moves it back,
 * copies on the way out, and bad envelopes refused with `InvalidArgument`.
 *
 * @example
 * ```ts
 * runSnapshotStoreConformance({ name: 'InMemorySnapshotStore', createSnapshotStore: () => new InMemorySnapshotStore() });
 * ```
 */
export function runSnapshotStoreConformance(options: SnapshotStoreConformanceOptions): void {
  const snapshot = (revision: bigint, state: unknown): Snapshot => ({
    streamId: 'account-1',
    aggregateType: 'BankAccount',
    snapshotVersion: 2,
    revision,
    state,
    takenAt: new Date('2024-05-06T07:08:09.123Z'),
  });

  describe(`${options.name}: snapshot store conformance`, () => {
    it('round-trips a snapshot (bigint and Date values included); a later one replaces it, an older one never moves it back', async () => {
      const store = await options.createSnapshotStore();
      expect(await store.load('account-1')).toBeUndefined();
      const first = snapshot(41n, {
        balance: 120n,
        openedAt: new Date('2020-01-02T03:04:05.000Z'),
        owners: ['ada'],
        nested: { n: null },
      });
      await store.save(first);
      expect(await store.load('account-1')).toEqual(first);
      const later = snapshot(99n, { balance: 7n });
      await store.save(later);
      expect(await store.load('account-1')).toEqual(later);
      // A slow writer's older snapshot arrives last: the newer one stays.
      await store.save(first);
      expect((await store.load('account-1'))?.revision, 'the revision after an older save').toBe(99n);
      if (store.delete !== undefined) {
        await store.delete('account-1');
        expect(await store.load('account-1')).toBeUndefined();
      }
    });

    it('hands out copies: changing a loaded or a saved object changes nothing stored', async () => {
      const store = await options.createSnapshotStore();
      const saved = snapshot(3n, { owners: ['ada'] }) as Snapshot & { state: { owners: string[] } };
      await store.save(saved);
      saved.state.owners.push('changed after save');
      const loaded = (await store.load('account-1')) as Snapshot & { state: { owners: string[] } };
      loaded.state.owners.push('changed after load');
      expect((await store.load('account-1'))?.state).toEqual({ owners: ['ada'] });
    });

    it('refuses an envelope without a stream id or with a negative revision, with InvalidArgument', async () => {
      const store = await options.createSnapshotStore();
      await expectAnnalsError(() => store.save({ ...snapshot(1n, {}), streamId: '' }), 'INVALID_ARGUMENT');
      await expectAnnalsError(() => store.save(snapshot(-1n, {})), 'INVALID_ARGUMENT');
      expect(await store.load('account-1')).toBeUndefined();
    });

    it(`refuses what no event store accepts either, with InvalidArgument: a stream id with a lone surrogate or longer than MAX_STREAM_ID_BYTES, a revision above MAX_REVISION`, async () => {
      const store = await options.createSnapshotStore();
      for (const streamId of ['account-\ud800', 'account-\udbff', 'x'.repeat(MAX_STREAM_ID_BYTES + 1)]) {
        await expectAnnalsError(() => store.save({ ...snapshot(1n, {}), streamId }), 'INVALID_ARGUMENT');
        await expectAnnalsError(() => store.load(streamId), 'INVALID_ARGUMENT');
        if (store.delete !== undefined) {
          await expectAnnalsError(() => store.delete!(streamId), 'INVALID_ARGUMENT');
        }
      }
      await expectAnnalsError(() => store.save(snapshot(MAX_REVISION + 1n, {})), 'INVALID_ARGUMENT');
      expect(await store.load('account-1')).toBeUndefined();
      await store.save({ ...snapshot(MAX_REVISION, {}), streamId: 'x'.repeat(MAX_STREAM_ID_BYTES) });
      expect((await store.load('x'.repeat(MAX_STREAM_ID_BYTES)))?.revision).toBe(MAX_REVISION);
    });
  });
}

/** Options of {@link runCheckpointStoreConformance}. */
export interface CheckpointStoreConformanceOptions {
  /** Shown in the test names. */
  readonly name: string;
  /** A fresh, empty checkpoint store for each case (without leases). */
  createCheckpointStore(): CheckpointStore | Promise<CheckpointStore>;
}

/**
 * Registers the cases every {@link CheckpointStore} must pass: the save is a compare-and-swap on the
 * previous position, a lost one throws `CheckpointConflict` and writes nothing, and bad arguments are refused
 * with `InvalidArgument`. Transactions are the adapter's own to test.
 */
export function runCheckpointStoreConformance(options: CheckpointStoreConformanceOptions): void {
  describe(`${options.name}: checkpoint store conformance`, () => {
    it('saves with a compare-and-swap on the previous position; a lost one throws CheckpointConflict and writes nothing', async () => {
      const checkpoints = await options.createCheckpointStore();
      expect(await checkpoints.load('balances')).toBeUndefined();
      await checkpoints.save('balances', 10n, { expected: undefined });
      expect(await checkpoints.load('balances')).toBe(10n);
      await checkpoints.save('balances', 25n, { expected: 10n });
      expect(await checkpoints.load('balances')).toBe(25n);
      for (const expected of [undefined, 10n]) {
        const error = await checkpoints
          .save('balances', 99n, { expected, owner: 'runner-2' })
          .catch((e: unknown) => e);
        expect(isCheckpointConflict(error), `a save expecting ${String(expected)} where 25 is stored`).toBe(
          true,
        );
        expect(error).toMatchObject({ key: 'balances' });
      }
      expect(await checkpoints.load('balances')).toBe(25n);
      expect(await checkpoints.load('other'), 'keys are independent').toBeUndefined();
    });

    it('refuses an empty key, a negative position and a position that is not a bigint, with InvalidArgument', async () => {
      const checkpoints = await options.createCheckpointStore();
      await expectAnnalsError(() => checkpoints.save('', 1n, { expected: undefined }), 'INVALID_ARGUMENT');
      await expectAnnalsError(() => checkpoints.save('k', -1n, { expected: undefined }), 'INVALID_ARGUMENT');
      await expectAnnalsError(
        () => checkpoints.save('k', 1 as unknown as bigint, { expected: undefined }),
        'INVALID_ARGUMENT',
      );
      expect(await checkpoints.load('k')).toBeUndefined();
    });

    it('refuses a key with a lone surrogate and a position or expected position above MAX_POSITION, with InvalidArgument', async () => {
      const checkpoints = await options.createCheckpointStore();
      for (const key of ['balances-\ud800', 'balances-\udbff']) {
        await expectAnnalsError(() => checkpoints.save(key, 1n, { expected: undefined }), 'INVALID_ARGUMENT');
        await expectAnnalsError(() => checkpoints.load(key), 'INVALID_ARGUMENT');
      }
      await expectAnnalsError(
        () => checkpoints.save('k', MAX_POSITION + 1n, { expected: undefined }),
        'INVALID_ARGUMENT',
      );
      await checkpoints.save('k', 5n, { expected: undefined });
      await expectAnnalsError(
        () => checkpoints.save('k', 6n, { expected: MAX_POSITION + 1n }),
        'INVALID_ARGUMENT',
      );
      await checkpoints.save('k', MAX_POSITION, { expected: 5n });
      expect(await checkpoints.load('k')).toBe(MAX_POSITION);
    });

    it('refuses a key with the NUL character, a lone surrogate or more than MAX_KEY_BYTES UTF-8 bytes with InvalidArgument naming the key, the limit and the length found; a key of exactly the limit round-trips', async () => {
      const checkpoints = await options.createCheckpointStore();
      const tooLong = `${'é'.repeat(MAX_KEY_BYTES / 2)}x`;
      for (const [key, found] of [
        ['balances\u0000', 'the NUL character'],
        ['balances-\udc00', 'a lone surrogate (\\udc00) at index 9'],
        ['k'.repeat(MAX_KEY_BYTES + 1), `${MAX_KEY_BYTES + 1} bytes`],
        [tooLong, `${MAX_KEY_BYTES + 1} bytes`],
      ] as const) {
        for (const action of [
          () => checkpoints.save(key, 1n, { expected: undefined }),
          () => checkpoints.load(key),
        ]) {
          const error = await expectAnnalsError(action, 'INVALID_ARGUMENT');
          expect(error.message, 'the message names the argument').toContain('checkpoint key');
          expect(error.message, 'the message names the limit').toContain(`${MAX_KEY_BYTES} UTF-8 bytes`);
          expect(error.message, 'the message says what was found').toContain(found);
        }
      }
      const longest = 'é'.repeat(MAX_KEY_BYTES / 2);
      await checkpoints.save(longest, 7n, { expected: undefined });
      expect(await checkpoints.load(longest), 'a key of exactly MAX_KEY_BYTES').toBe(7n);
      expect(
        await checkpoints.load('é'.repeat(MAX_KEY_BYTES / 2 - 1)),
        'a shorter key is another key',
      ).toBeUndefined();
    });
  });
}
