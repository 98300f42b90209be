import { describe, expect, it } from 'vitest';
import {
  allIds,
  balances,
  Deposited,
  deposit,
  HONEST_TTL_MS,
  newStore,
  type Staged,
  silent,
  TransactionalModel,
  waitFor,
} from '../../../../test/support/projection-runner-fixtures.js';
import { defineProjection } from './define-projection.js';
import { InMemoryCheckpointStore } from './in-memory-checkpoint-store.js';
import { InMemoryLeaseStore } from './in-memory-lease-store.js';
import { isCheckpointConflict } from './projection-errors.js';
import { ProjectionRunner } from './projection-runner.js';

describe('ProjectionRunner leases and shards (in memory)', () => {
  it('runs each projection on one runner at a time; another takes over from the checkpoint', async () => {
    const store = newStore();
    for (let i = 0; i < 10; i++) await deposit(store, 'a', 1);
    const leases = new InMemoryLeaseStore();
    const checkpoints = new InMemoryCheckpointStore({ leases });
    const model = balances();
    const appliedBy = new Map<string, number>();
    const projection = defineProjection({
      name: 'single',
      events: [Deposited],
      handlers: { Deposited: (e) => model.apply(e) },
    });
    const make = (owner: string) =>
      new ProjectionRunner({
        store,
        projections: [projection],
        leases,
        checkpoints,
        owner,
        leaseTtlMs: HONEST_TTL_MS,
        logger: silent,
        context: () => {
          appliedBy.set(owner, (appliedBy.get(owner) ?? 0) + 1);
          return {};
        },
      });
    const a = make('a');
    const b = make('b');
    await a.start();
    await a.waitUntilCaughtUp();
    await b.start();
    await waitFor(() => b.status('single')!.state === 'standby', 'b in standby');
    expect(a.status('single')!.state).toBe('running');
    await a.stop(); // releases the lease: b takes over without waiting for the expiry
    await deposit(store, 'a', 1);
    await waitFor(() => b.status('single')!.state === 'running', 'b running');
    await b.waitUntilCaughtUp();
    expect(model.appliedOnce(await allIds(store))).toBe(true);
    expect(b.status('single')!.position).toBe(11n);
    await b.stop();
  });

  it('a runner that lost its lease rolls its batch back and stands by', async () => {
    const store = newStore();
    for (let i = 0; i < 4; i++) await deposit(store, 'a', 1);
    let now = 0;
    const leases = new InMemoryLeaseStore({ now: () => now });
    const db = new TransactionalModel(leases);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let entered!: () => void;
    const inBatch = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const projection = defineProjection({
      name: 'stolen',
      events: [Deposited],
      handlers: {
        Deposited: async (e, { tx }: { tx: Staged }) => {
          tx.applied.set(e.id, (tx.applied.get(e.id) ?? 0) + 1);
          if (e.position === 1n) {
            entered();
            await gate;
          }
        },
      },
    });
    const runner = new ProjectionRunner({
      store,
      projections: [projection],
      leases,
      checkpoints: db.checkpoints,
      transaction: db.transaction,
      owner: 'a',
      leaseTtlMs: 60_000,
      logger: silent,
    });
    await runner.start();
    await inBatch;
    now += 120_000; // a's lease expired while its batch was in flight (a long pause) ...
    expect(await leases.acquire('stolen', 'b', 60_000)).toBe(true); // ... and b took it
    release();
    await waitFor(() => runner.status('stolen')!.state === 'standby', 'standby');
    expect(db.applied.size).toBe(0); // a's batch rolled back
    expect(await db.checkpoints.load('stolen')).toBeUndefined();
    await runner.stop();
  });

  it('a checkpoint moved under a runner without leases (CheckpointConflict) stands it by, and it resumes from the stored checkpoint', async () => {
    const store = newStore();
    for (let i = 0; i < 3; i++) await deposit(store, 'a', 1);
    const checkpoints = new InMemoryCheckpointStore();
    const applied: bigint[] = [];
    const warnings: unknown[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let entered!: () => void;
    const inBatch = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const projection = defineProjection({
      name: 'moved',
      events: [Deposited],
      // With no retry at all, treating the conflict as a failure would fail the projection at once.
      failure: { retries: 0 },
      handlers: {
        Deposited: async (e) => {
          applied.push(e.position);
          if (e.position === 1n) {
            entered();
            await gate;
          }
        },
      },
    });
    const runner = new ProjectionRunner({
      store,
      projections: [projection],
      checkpoints,
      leaseTtlMs: 300,
      logger: { warn: (details) => warnings.push(details.err), error: () => {} },
    });
    await runner.start();
    await inBatch;
    await checkpoints.save('moved', 2n, { expected: undefined }); // another writer moved it meanwhile
    release();
    await runner.waitUntilCaughtUp('moved');
    expect(warnings.some(isCheckpointConflict), 'the conflict was reported').toBe(true);
    expect(runner.status('moved')).toMatchObject({ state: 'running', position: 3n, lastError: undefined });
    expect(applied, 'event 2 was covered by the moved checkpoint; event 3 applied once').toEqual([1n, 3n]);
    expect(await checkpoints.load('moved')).toBe(3n);
    await runner.stop();
  });

  it('spreads shards over runners, rebalances on join and leave, and applies every event once', async () => {
    const store = newStore();
    const leases = new InMemoryLeaseStore();
    const checkpoints = new InMemoryCheckpointStore({ leases });
    const model = balances();
    const perStreamOrder = new Map<string, bigint>();
    let outOfOrder = 0;
    const projection = defineProjection({
      name: 'sharded',
      events: [Deposited],
      shards: 4,
      handlers: {
        Deposited: (e) => {
          if ((perStreamOrder.get(e.streamId) ?? -1n) >= e.revision) outOfOrder++;
          perStreamOrder.set(e.streamId, e.revision);
          model.apply(e);
        },
      },
    });
    const make = (owner: string) =>
      new ProjectionRunner({
        store,
        projections: [projection],
        leases,
        checkpoints,
        owner,
        leaseTtlMs: HONEST_TTL_MS,
        logger: silent,
      });
    const held = (runner: ProjectionRunner) =>
      runner.status().filter((s) => s.state === 'running' || s.state === 'catching-up').length;

    for (let i = 0; i < 40; i++) await deposit(store, `s${i % 10}`, 1);
    const a = make('a');
    await a.start();
    await a.waitUntilCaughtUp();
    await waitFor(() => held(a) === 4, 'a holds all four shards');

    const b = make('b');
    await b.start();
    await waitFor(() => held(a) === 2 && held(b) === 2, 'two shards each');
    for (let i = 0; i < 20; i++) await deposit(store, `s${i % 10}`, 1);
    await b.waitUntilCaughtUp();

    const c = make('c');
    await c.start();
    await waitFor(
      () => held(a) >= 1 && held(b) >= 1 && held(c) >= 1 && held(a) + held(b) + held(c) === 4,
      'three runners share',
    );
    await b.stop();
    await waitFor(() => held(a) + held(c) === 4, 'a and c take over b');
    for (let i = 0; i < 20; i++) await deposit(store, `s${i % 10}`, 1);
    await a.waitUntilCaughtUp();
    await c.waitUntilCaughtUp();
    expect(model.appliedOnce(await allIds(store))).toBe(true);
    expect(outOfOrder).toBe(0);
    expect(a.status().map((s) => s.key)).toEqual([
      'sharded[0/4]',
      'sharded[1/4]',
      'sharded[2/4]',
      'sharded[3/4]',
    ]);
    await a.stop();
    await c.stop();
  });
});
