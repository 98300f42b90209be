import { CheckpointConflict, isCheckpointConflict } from '@annals/core';
import { PostgresCheckpointStore, PostgresSnapshotStore } from '@annals/postgres';
import { describe, expect, it } from 'vitest';
import { targets, useTestDatabase } from './support/test-database.js';

const db = useTestDatabase('checkpoints');

describe.each(targets)('PostgresCheckpointStore (%s)', (target) => {
  it('saves with a compare-and-swap on the previous position, and CheckpointConflict writes nothing', async () => {
    const store = await db.open(target);
    const checkpoints = new PostgresCheckpointStore(store);
    expect(await checkpoints.load('balances')).toBeUndefined();
    await checkpoints.save('balances', 10n, { expected: undefined });
    expect(await checkpoints.load('balances')).toBe(10n);
    await checkpoints.save('balances', 25n, { expected: 10n });
    expect(await checkpoints.load('balances')).toBe(25n);

    for (const expected of [undefined, 10n]) {
      const error = await checkpoints
        .save('balances', 99n, { expected, owner: 'runner-2' })
        .catch((e: unknown) => e);
      expect(isCheckpointConflict(error)).toBe(true);
      expect(error).toBeInstanceOf(CheckpointConflict);
      expect(error).toMatchObject({
        code: 'CHECKPOINT_CONFLICT',
        key: 'balances',
        owner: 'runner-2',
        expected,
        found: 25n,
      });
      expect((error as Error).message).toContain(`expected ${expected ?? 'none'}, found 25`);
    }
    expect(await checkpoints.load('balances')).toBe(25n);
    await checkpoints.delete('balances');
    expect(await checkpoints.load('balances')).toBeUndefined();
  });

  it('a save inside a transaction commits and rolls back with the read-model writes', async () => {
    const store = await db.open(target);
    const checkpoints = new PostgresCheckpointStore(store);
    const model = `"${store.schema}".balances`;
    await db.raw(target, `create table ${model} (id text primary key, amount int not null)`);

    await store.transaction(async (tx) => {
      await tx.withSchema(store.schema).insertInto('balances').values({ id: 'a', amount: 5 }).execute();
      await checkpoints.save('balances', 1n, { expected: undefined, transaction: tx });
    });
    expect(await checkpoints.load('balances')).toBe(1n);

    // A lost compare-and-swap inside the transaction: the batch rolls back with it.
    const failed = await store
      .transaction(async (tx) => {
        await tx
          .withSchema(store.schema)
          .updateTable('balances')
          .set({ amount: 500 })
          .where('id', '=', 'a')
          .execute();
        await checkpoints.save('balances', 2n, { expected: 0n, transaction: tx });
      })
      .catch((e: unknown) => e);
    expect(isCheckpointConflict(failed)).toBe(true);
    expect(await checkpoints.load('balances')).toBe(1n);
    expect(await db.raw(target, `select amount from ${model}`)).toEqual([{ amount: 5 }]);

    // A failure after the save rolls the checkpoint back too.
    await store
      .transaction(async (tx) => {
        await checkpoints.save('balances', 2n, { expected: 1n, transaction: tx });
        expect(await checkpoints.load('balances', { transaction: tx })).toBe(2n);
        throw new Error('handler failed');
      })
      .catch(() => {});
    expect(await checkpoints.load('balances')).toBe(1n);
  });

  it('refuses bad arguments with InvalidArgument', async () => {
    const store = await db.open(target);
    const checkpoints = new PostgresCheckpointStore(store);
    await expect(checkpoints.save('', 1n, { expected: undefined })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(checkpoints.save('k', -1n, { expected: undefined })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(
      checkpoints.save('k', 1 as unknown as bigint, { expected: undefined }),
    ).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });
});

describe.each(targets)('PostgresSnapshotStore (%s)', (target) => {
  // Round trip, replacement and no move back: runSnapshotStoreConformance (test/conformance/store-kits.test.ts).
  it('refuses state JSON would silently change, and bad envelopes, with InvalidArgument', async () => {
    const store = await db.open(target);
    const snapshots = new PostgresSnapshotStore(store);
    const base = { streamId: 's', aggregateType: 'A', snapshotVersion: 1, revision: 0n, takenAt: new Date() };
    for (const state of [new Map([[1, 2]]), { set: new Set([1]) }, undefined, 'a\u0000b']) {
      await expect(snapshots.save({ ...base, state })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    }
    await expect(snapshots.save({ ...base, revision: -1n, state: {} })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    expect(await snapshots.load('s')).toBeUndefined();
  });
});
