import { describe, expect, it } from 'vitest';
import {
  allIds,
  balances,
  Deposited,
  deposit,
  fastFailure,
  Noted,
  newStore,
  type Staged,
  silent,
  TransactionalModel,
} from '../../../../test/support/projection-runner-fixtures.js';
import type { RecordedEvent } from '../events/event-types.js';
import type { InMemoryEventStore } from '../store/in-memory-event-store.js';
import type { StoredDeadLetter } from './dead-letter-store.js';
import { defineProjection, type Projection } from './define-projection.js';
import { ProjectionFailed } from './projection-errors.js';
import { ProjectionRunner } from './projection-runner.js';
import { shardOf } from './shard.js';

describe('ProjectionRunner batch handlers (in memory)', () => {
  /** A batch projection writing to the transactional model; `poison` marks the events it cannot apply. */
  function batchOver(
    options: { poison?: (e: RecordedEvent) => boolean; onExhausted?: 'stop' | 'dead-letter' } = {},
  ) {
    const calls: number[] = [];
    const projection = defineProjection({
      name: 'batched',
      events: [Deposited],
      batchSize: 10,
      failure: { ...fastFailure, ...(options.onExhausted ? { onExhausted: options.onExhausted } : {}) },
      handleBatch: (events, { tx }: { tx: Staged }) => {
        calls.push(events.length);
        // Writes first, then the failure: the transaction must drop them.
        for (const e of events) tx.applied.set(e.id, (tx.applied.get(e.id) ?? 0) + 1);
        const bad = events.find((e) => options.poison?.(e));
        if (bad !== undefined) throw new RangeError(`cannot apply ${bad.streamId}`);
      },
    });
    return { projection, calls };
  }

  function runnerFor(store: InMemoryEventStore, db: TransactionalModel, projection: Projection<any>) {
    const letters: StoredDeadLetter[] = [];
    const runner = new ProjectionRunner({
      store,
      projections: [projection],
      checkpoints: db.checkpoints,
      transaction: db.transaction,
      deadLetters: {
        record: async (letter) => {
          letters.push({ ...letter, id: String(letters.length + 1) });
        },
        list: async () => letters,
        get: async (id) => letters.find((l) => l.id === id),
        remove: async () => false,
      },
      logger: silent,
    });
    return runner;
  }

  it('hands whole batches to handleBatch, one transaction each, every event applied once', async () => {
    const store = newStore();
    for (let i = 0; i < 25; i++) await deposit(store, `s${i % 3}`, 1);
    await store.append('notes', [Noted.create({ text: 'not handled' })]);
    const db = new TransactionalModel();
    const { projection, calls } = batchOver();
    expect(projection.batched).toBe(true);
    expect(projection.eventTypes).toEqual(['Deposited']);
    const runner = runnerFor(store, db, projection);
    await runner.start();
    await runner.waitUntilCaughtUp();
    expect(calls).toEqual([10, 10, 5]);
    expect(db.commits).toBe(3);
    const ids = await allIds(store);
    expect([...db.applied.values()].every((n) => n === 1)).toBe(true);
    expect(db.applied.size).toBe(ids.length);
    expect(runner.status('batched')!.position).toBe(25n);

    await deposit(store, 'live', 1);
    await runner.waitUntilCaughtUp();
    expect(calls.at(-1)).toBe(1);
    expect(db.applied.size).toBe(26);
    await runner.stop();
  });

  it('retries a failing batch whole, then finds the poison event: stops on it, the events before applied once', async () => {
    const store = newStore();
    for (let i = 0; i < 6; i++) await deposit(store, 'a', 1);
    await deposit(store, 'poison', 1); // position 7
    for (let i = 0; i < 3; i++) await deposit(store, 'a', 1);
    const db = new TransactionalModel();
    const { projection, calls } = batchOver({ poison: (e) => e.streamId === 'account-poison' });
    const runner = runnerFor(store, db, projection);
    await runner.start();
    const error = await runner.waitUntilCaughtUp().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProjectionFailed);
    expect((error as ProjectionFailed).event).toMatchObject({ position: 7n, streamId: 'account-poison' });
    // 3 attempts of the batch (the first and 2 retries), then one event at a time: 6 good calls
    // and the poison, then the 6 good events committed again as the prefix.
    expect(calls.slice(0, 3)).toEqual([10, 10, 10]);
    expect(calls.slice(3).every((n) => n === 1)).toBe(true);
    const status = runner.status('batched')!;
    expect(status.state).toBe('failed');
    expect(status.position).toBe(6n); // just before the poison event
    expect(db.committedCheckpoints.get('batched')).toBe(6n);
    expect(status.lastError).toMatchObject({ message: 'RangeError: cannot apply account-poison' });
    expect(status.lastError?.event?.position).toBe(7n);
    const ids = await allIds(store);
    expect([...db.applied.keys()]).toEqual(ids.slice(0, 6));
    expect([...db.applied.values()].every((n) => n === 1)).toBe(true);
    await runner.stop();
  });

  it('dead-letters the poison event of a failing batch and goes on in batches', async () => {
    const store = newStore();
    for (let i = 0; i < 4; i++) await deposit(store, 'a', 1);
    await deposit(store, 'poison', 1); // position 5
    for (let i = 0; i < 15; i++) await deposit(store, 'a', 1);
    const db = new TransactionalModel();
    const { projection, calls } = batchOver({
      poison: (e) => e.streamId === 'account-poison',
      onExhausted: 'dead-letter',
    });
    const runner = runnerFor(store, db, projection);
    await runner.start();
    await runner.waitUntilCaughtUp();
    await runner.stop();
    const ids = await allIds(store);
    const letters = await runner.deadLetters.list();
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({
      eventId: ids[4],
      position: 5n,
      error: 'RangeError: cannot apply account-poison',
    });
    expect(db.applied.has(ids[4]!)).toBe(false);
    expect(db.applied.size).toBe(ids.length - 1);
    expect([...db.applied.values()].every((n) => n === 1)).toBe(true);
    expect(runner.status('batched')).toMatchObject({ position: 20n, deadLettered: 1 });
    // After the dead letter, the rest of the batch (5 events) went back to the batch handler.
    expect(calls).toContain(5);
    expect(calls.at(-1)).toBe(10);
  });

  it('a batch that fails then succeeds on a retry is applied once, without going event by event', async () => {
    const store = newStore();
    for (let i = 0; i < 8; i++) await deposit(store, 'a', 1);
    const db = new TransactionalModel();
    let failures = 2;
    const { projection, calls } = batchOver({ poison: () => failures-- > 0 });
    const runner = runnerFor(store, db, projection);
    await runner.start();
    await runner.waitUntilCaughtUp();
    await runner.stop();
    expect(calls).toEqual([8, 8, 8]);
    expect(db.applied.size).toBe(8);
    expect([...db.applied.values()].every((n) => n === 1)).toBe(true);
    expect(runner.status('batched')!.lastError).toMatchObject({ attempts: 2, event: undefined });
  });

  it('without a transaction, finds the poison event and checkpoints every event before it', async () => {
    const store = newStore();
    for (let i = 0; i < 3; i++) await deposit(store, 'a', 1);
    await deposit(store, 'poison', 1); // position 4
    await deposit(store, 'a', 1);
    const model = balances();
    const projection = defineProjection({
      name: 'plain-batch',
      events: [Deposited],
      failure: fastFailure,
      handleBatch: (events) => {
        // Checks first, then writes: a failing call writes nothing here.
        if (events.some((e) => e.data.accountId === 'poison')) throw new Error('poison');
        for (const e of events) model.apply(e);
      },
    });
    const runner = new ProjectionRunner({ store, projections: [projection], logger: silent });
    await runner.start();
    await expect(runner.waitUntilCaughtUp()).rejects.toMatchObject({
      event: { position: 4n, streamId: 'account-poison' },
    });
    expect(runner.status('plain-batch')!.position).toBe(3n);
    expect(model.appliedOnce((await allIds(store)).slice(0, 3))).toBe(true);
    await runner.stop();
  });

  it('gives each shard the events of its streams only', async () => {
    const store = newStore();
    for (let i = 0; i < 30; i++) await deposit(store, `s${i % 7}`, 1);
    const seen: string[][] = [[], []];
    const sharded = defineProjection({
      name: 'sharded-batch',
      events: [Deposited],
      shards: 2,
      handleBatch: (events) => {
        const shard = shardOf(events[0]!.streamId, 2);
        for (const e of events) {
          expect(shardOf(e.streamId, 2)).toBe(shard);
          seen[shard]!.push(e.id);
        }
      },
    });
    const runner = new ProjectionRunner({ store, projections: [sharded], logger: silent });
    await runner.start();
    await runner.waitUntilCaughtUp();
    await runner.stop();
    expect([...seen[0]!, ...seen[1]!].sort()).toEqual((await allIds(store)).sort());
  });
});
