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
import type { SubscribeToAllOptions } from '../store/event-store.js';
import { defineProjection } from './define-projection.js';
import { InMemoryCheckpointStore } from './in-memory-checkpoint-store.js';
import { ProjectionRunner } from './projection-runner.js';

describe('ProjectionRunner catch-up and exactly once (in memory)', () => {
  it('catches up from the checkpoint, then applies live events, upcast, filtered to the handled types', async () => {
    const store = newStore();
    await store.append(
      'account-a',
      [{ type: 'Deposited', schemaVersion: 1, data: { accountId: 'a', amount: 5 } }],
      {
        import: true,
      },
    );
    await store.append('notes', [Noted.create({ text: 'not handled' })]);
    await deposit(store, 'a', 10);
    const subscribed: SubscribeToAllOptions[] = [];
    const spy = new Proxy(store, {
      get(target, property) {
        const value = Reflect.get(target, property, target);
        if (property === 'subscribeToAll') {
          return (options: SubscribeToAllOptions) => {
            subscribed.push(options);
            return target.subscribeToAll(options);
          };
        }
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const model = balances();
    const seen: string[] = [];
    const projection = defineProjection({
      name: 'balances',
      events: [Deposited],
      handlers: {
        Deposited: (e) => {
          seen.push(`${e.schemaVersion}:${e.data.amount.currency}`);
          model.apply(e);
        },
      },
    });
    const runner = new ProjectionRunner({ store: spy, projections: [projection], logger: silent });
    await runner.start();
    await runner.waitUntilCaughtUp();
    expect(model.byAccount.get('a')).toBe(15);
    expect(seen).toEqual(['2:EUR', '2:EUR']); // the v1 event arrives upcast
    expect(subscribed).toEqual([{ fromPosition: 1n, filter: { types: ['Deposited'] } }]);

    await deposit(store, 'b', 7);
    await runner.waitUntilCaughtUp('balances');
    expect(model.byAccount.get('b')).toBe(7);
    const status = runner.status('balances')!;
    expect(status.state).toBe('running');
    expect(status.position).toBe(4n);
    expect(status.lag).toEqual({ events: 0, ms: 0 });
    expect(status.lastError).toBeUndefined();
    await runner.stop();
    expect(runner.status('balances')!.state).toBe('stopped');

    // A new runner on the same checkpoints resumes after the checkpoint.
    const checkpoints = new InMemoryCheckpointStore();
    await checkpoints.save('balances', 4n, { expected: undefined });
    await deposit(store, 'c', 1);
    const again = new ProjectionRunner({ store, projections: [projection], checkpoints, logger: silent });
    await again.start();
    await again.waitUntilCaughtUp();
    await again.stop();
    expect(model.byAccount.get('c')).toBe(1);
    expect(model.appliedOnce(await allIds(store))).toBe(true);
  });

  it('applies each event exactly once when a handler throws mid-batch (transactional read model)', async () => {
    const store = newStore();
    for (let i = 0; i < 20; i++) await deposit(store, `s${i % 3}`, 1);
    const db = new TransactionalModel();
    let thrown = 0;
    const projection = defineProjection({
      name: 'tx',
      events: [Deposited],
      batchSize: 8,
      failure: fastFailure,
      handlers: {
        Deposited: (e, { tx }: { tx: Staged }) => {
          tx.applied.set(e.id, (tx.applied.get(e.id) ?? 0) + 1);
          if (e.position === 12n && thrown++ < 2) throw new Error('flaky');
        },
      },
    });
    const runner = new ProjectionRunner({
      store,
      projections: [projection],
      checkpoints: db.checkpoints,
      transaction: db.transaction,
      logger: silent,
    });
    await runner.start();
    await runner.waitUntilCaughtUp();
    await runner.stop();
    expect(thrown).toBe(3);
    const ids = await allIds(store);
    expect([...db.applied.values()].every((n) => n === 1)).toBe(true);
    expect(db.applied.size).toBe(ids.length);
    expect(db.commits).toBeGreaterThan(2); // batched, not one transaction
    expect(db.commits).toBeLessThan(ids.length);
  });

  it('applies each event exactly once when a handler throws mid-batch (no transaction)', async () => {
    const store = newStore();
    for (let i = 0; i < 10; i++) await deposit(store, 'a', 1);
    const model = balances();
    let thrown = false;
    const projection = defineProjection({
      name: 'plain',
      events: [Deposited],
      failure: fastFailure,
      handlers: {
        Deposited: (e) => {
          if (e.position === 6n && !thrown) {
            thrown = true;
            throw new Error('once');
          }
          model.apply(e);
        },
      },
    });
    const runner = new ProjectionRunner({ store, projections: [projection], logger: silent });
    await runner.start();
    await runner.waitUntilCaughtUp();
    await runner.stop();
    expect(thrown).toBe(true);
    expect(model.appliedOnce(await allIds(store))).toBe(true);
  });

  it('stop() lets the batch in progress commit', async () => {
    const store = newStore();
    for (let i = 0; i < 6; i++) await deposit(store, 'a', 1);
    const db = new TransactionalModel();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let entered!: () => void;
    const inBatch = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const projection = defineProjection({
      name: 'slow',
      events: [Deposited],
      batchSize: 4,
      handlers: {
        Deposited: async (e, { tx }: { tx: Staged }) => {
          tx.applied.set(e.id, 1);
          if (e.position === 2n) {
            entered();
            await gate;
          }
        },
      },
    });
    const runner = new ProjectionRunner({
      store,
      projections: [projection],
      checkpoints: db.checkpoints,
      transaction: db.transaction,
      logger: silent,
    });
    await runner.start();
    await inBatch;
    const stopped = runner.stop();
    release();
    await stopped;
    expect(runner.status('slow')!.state).toBe('stopped');
    expect(await db.checkpoints.load('slow')).toBe(4n); // the whole first batch, nothing more
    expect(db.applied.size).toBe(4);
  });
});
