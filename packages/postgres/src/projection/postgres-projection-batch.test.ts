import { defineProjection, ProjectionFailed } from '@annals/core';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import {
  Deposited,
  fastFailure,
  silent,
  usePGliteReadModel,
} from '../../../../test/support/projection-read-model.js';
import { type PostgresProjectionContext, PostgresProjectionRunner } from './postgres-projection-runner.js';

const setup = usePGliteReadModel();

describe('PostgresProjectionRunner with a batch handler (PGlite)', () => {
  it('writes each batch set-based in its transaction, with the checkpoint; every event once', async () => {
    const { store, applyAll, exactlyOnce, balance, deposit, db } = await setup();
    for (let i = 0; i < 45; i++) await deposit(`a${i % 4}`, 2);
    const sizes: number[] = [];
    const projection = defineProjection({
      name: 'set-based',
      events: [Deposited],
      batchSize: 20,
      handleBatch: async (events, { tx }: PostgresProjectionContext) => {
        sizes.push(events.length);
        await applyAll(tx, events);
      },
    });
    const runner = new PostgresProjectionRunner({ store, projections: [projection], logger: silent });
    await runner.start();
    await runner.waitUntilCaughtUp();
    expect(sizes).toEqual([20, 20, 5]);
    expect(await exactlyOnce()).toEqual({ events: 45, applied: 45, maxTimes: 1 });
    expect(await balance('a0')).toBe(24);
    await deposit('live', 5);
    await runner.waitUntilCaughtUp();
    expect(await balance('live')).toBe(5);
    const stored = await db
      .selectFrom('checkpoints')
      .select(sql<string>`position::text`.as('p'))
      .where('name', '=', 'set-based')
      .executeTakeFirstOrThrow();
    expect(BigInt(stored.p)).toBe(runner.status('set-based')!.position);
    await runner.stop();
    await store.close();
  });

  it('retries a failing batch, then stops on the poison event; the checkpoint stays just before it', async () => {
    const { store, applyAll, exactlyOnce, deposit, db } = await setup();
    for (let i = 0; i < 7; i++) await deposit('a', 1);
    const poison = await deposit('poison', 1);
    for (let i = 0; i < 4; i++) await deposit('a', 1);
    let batchCalls = 0;
    const projection = defineProjection({
      name: 'poisoned',
      events: [Deposited],
      failure: fastFailure,
      handleBatch: async (events, { tx }: PostgresProjectionContext) => {
        if (events.length > 1) batchCalls++;
        await applyAll(tx, events); // written, then the failure: rolled back with the batch
        if (events.some((e) => e.data.accountId === 'poison')) throw new RangeError('bad amount');
      },
    });
    const runner = new PostgresProjectionRunner({ store, projections: [projection], logger: silent });
    await runner.start();
    const error = await runner.waitUntilCaughtUp().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProjectionFailed);
    expect((error as ProjectionFailed).event).toMatchObject({
      streamId: 'account-poison',
      position: poison.lastPosition,
    });
    expect(batchCalls).toBe(3); // the first attempt and 2 retries, before going event by event
    const status = runner.status('poisoned')!;
    expect(status.state).toBe('failed');
    expect(status.position).toBeLessThan(poison.lastPosition);
    const stored = await db
      .selectFrom('checkpoints')
      .select(sql<string>`position::text`.as('p'))
      .where('name', '=', 'poisoned')
      .executeTakeFirstOrThrow();
    expect(BigInt(stored.p)).toBe(status.position);
    // The 7 events before the poison are applied, once each; nothing after it.
    expect(await exactlyOnce()).toEqual({ events: 12, applied: 7, maxTimes: 1 });
    await runner.stop();
    await store.close();
  });

  it('dead-letters the poison event of a failing batch and applies the rest once', async () => {
    const { store, applyAll, exactlyOnce, deposit } = await setup();
    for (let i = 0; i < 3; i++) await deposit('a', 1);
    const poison = await deposit('poison', 1);
    for (let i = 0; i < 5; i++) await deposit('a', 1);
    const projection = defineProjection({
      name: 'tolerant-batch',
      events: [Deposited],
      failure: { ...fastFailure, onExhausted: 'dead-letter' },
      handleBatch: async (events, { tx }: PostgresProjectionContext) => {
        await applyAll(tx, events);
        if (events.some((e) => e.data.accountId === 'poison')) throw new RangeError('bad amount');
      },
    });
    const runner = new PostgresProjectionRunner({ store, projections: [projection], logger: silent });
    await runner.start();
    await runner.waitUntilCaughtUp();
    expect(runner.status('tolerant-batch')).toMatchObject({ state: 'running', deadLettered: 1 });
    await runner.stop();
    const letters = await runner.deadLetters.list('tolerant-batch');
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({
      streamId: 'account-poison',
      position: poison.lastPosition,
      error: 'RangeError: bad amount',
    });
    expect(await exactlyOnce()).toEqual({ events: 9, applied: 8, maxTimes: 1 });
    await store.close();
  });
});
