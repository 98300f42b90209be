import { defineProjection, ProjectionFailed, type RebuildProgress } from '@annals/core';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import {
  Deposited,
  fastFailure,
  HONEST_TTL_MS,
  Noted,
  silent,
  usePGliteReadModel,
  waitFor,
} from '../../../../test/support/projection-read-model.js';
import { PostgresLeaseStore } from './postgres-lease-store.js';
import { type PostgresProjectionContext, PostgresProjectionRunner } from './postgres-projection-runner.js';

const setup = usePGliteReadModel();

describe('PostgresProjectionRunner (PGlite)', () => {
  it('status() right after await start() says what each projection does: catching-up, running or standby, never stopped', async () => {
    const { store, deposit } = await setup();
    for (let i = 0; i < 3; i++) await deposit('a', 1);
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const behind = defineProjection({
      name: 'behind',
      events: [Deposited],
      handlers: { Deposited: () => held },
    });
    const idle = defineProjection({ name: 'idle', events: [Noted], handlers: { Noted: () => {} } });
    const options = { store, projections: [behind, idle], logger: silent, leases: true };
    const first = new PostgresProjectionRunner({ ...options, owner: 'first' });
    const second = new PostgresProjectionRunner({ ...options, owner: 'second' });
    const states = (runner: PostgresProjectionRunner) =>
      Object.fromEntries(runner.status().map((s) => [s.name, s.state]));

    await first.start();
    expect(states(first), 'the first runner, right after start()').toEqual({
      behind: 'catching-up',
      idle: 'running',
    });
    await second.start();
    expect(states(second), 'the second runner, whose leases the first holds').toEqual({
      behind: 'standby',
      idle: 'standby',
    });
    release();
    await first.waitUntilCaughtUp();
    await second.stop();
    await first.stop();
    expect(states(first), 'after stop()').toEqual({ behind: 'stopped', idle: 'stopped' });
    await store.close();
  });

  it('catches up then follows live, writing the read model and the checkpoint in one transaction per batch', async () => {
    const { store, db, apply, exactlyOnce, balance, deposit } = await setup();
    for (let i = 0; i < 25; i++) await deposit(`a${i % 3}`, 1);
    await store.append('notes', [Noted.create({ text: 'ignored' })]);
    const projection = defineProjection({
      name: 'balances',
      events: [Deposited],
      batchSize: 10,
      handlers: { Deposited: (e, { tx }: PostgresProjectionContext) => apply(tx, e) },
    });
    const runner = new PostgresProjectionRunner({ store, projections: [projection], logger: silent });
    await runner.start();
    await runner.waitUntilCaughtUp();
    await deposit('live', 5);
    await runner.waitUntilCaughtUp();
    expect(await balance('live')).toBe(5);
    expect(await exactlyOnce()).toEqual({ events: 26, applied: 26, maxTimes: 1 });
    const status = (await runner.refreshStatus())[0]!;
    expect(status.state).toBe('running');
    expect(status.lag).toEqual({ events: 0, ms: 0 });
    const stored = await db
      .selectFrom('checkpoints')
      .select(sql<string>`position::text`.as('p'))
      .executeTakeFirst();
    expect(BigInt(stored!.p)).toBe(status.position);
    await runner.stop();
    await store.close();
  });

  it('rolls back the whole batch when a handler throws mid-batch, then applies every event exactly once', async () => {
    const { store, apply, exactlyOnce, deposit } = await setup();
    for (let i = 0; i < 30; i++) await deposit(`a${i % 4}`, 1);
    let throws = 0;
    const projection = defineProjection({
      name: 'flaky',
      events: [Deposited],
      batchSize: 12,
      failure: fastFailure,
      handlers: {
        Deposited: async (e, { tx }: PostgresProjectionContext) => {
          await apply(tx, e); // written, then the handler fails: the write must roll back
          if (e.revision === 5n && e.streamId === 'account-a2' && throws++ < 2) throw new Error('transient');
        },
      },
    });
    const runner = new PostgresProjectionRunner({ store, projections: [projection], logger: silent });
    await runner.start();
    await runner.waitUntilCaughtUp();
    await runner.stop();
    expect(throws).toBe(3);
    expect(await exactlyOnce()).toEqual({ events: 30, applied: 30, maxTimes: 1 });
    expect(runner.status('flaky')!.lastError?.message).toBe('Error: transient');
    await store.close();
  });

  it('stops a projection that keeps failing, keeping its checkpoint before the event, while another runs on', async () => {
    const { store, apply, deposit, db } = await setup();
    await deposit('a', 1);
    await deposit('poison', 1);
    await deposit('a', 1);
    const failing = defineProjection({
      name: 'failing',
      events: [Deposited],
      failure: fastFailure,
      handlers: {
        Deposited: async (e, { tx }: PostgresProjectionContext) => {
          if (e.data.accountId === 'poison') throw new Error('poison');
          await apply(tx, e);
        },
      },
    });
    let healthyCount = 0;
    const healthy = defineProjection({
      name: 'healthy',
      events: [Deposited],
      handlers: {
        Deposited: () => {
          healthyCount++;
        },
      },
    });
    const runner = new PostgresProjectionRunner({ store, projections: [failing, healthy], logger: silent });
    await runner.start();
    const error = await runner.waitUntilCaughtUp('failing').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProjectionFailed);
    const status = runner.status('failing')!;
    expect(status.state).toBe('failed');
    expect(status.lastError?.event?.streamId).toBe('account-poison');
    const poison = status.lastError!.event!.position!;
    expect(status.position).toBeLessThan(poison);
    const stored = await db
      .selectFrom('checkpoints')
      .select(sql<string>`position::text`.as('p'))
      .where('name', '=', 'failing')
      .executeTakeFirst();
    expect(BigInt(stored!.p)).toBe(status.position);
    await deposit('b', 1);
    await runner.waitUntilCaughtUp('healthy');
    expect(healthyCount).toBe(4);
    await runner.stop();
    await store.close();
  });

  it('records a poison event in projection_dead_letters, in the transaction that moves past it', async () => {
    const { store, apply, deposit, exactlyOnce } = await setup();
    await deposit('a', 1);
    const poison = await deposit('poison', 1);
    const last = await deposit('a', 1);
    const projection = defineProjection({
      name: 'tolerant',
      events: [Deposited],
      failure: { ...fastFailure, onExhausted: 'dead-letter' },
      handlers: {
        Deposited: async (e, { tx }: PostgresProjectionContext) => {
          await apply(tx, e);
          if (e.data.accountId === 'poison') throw new RangeError('bad amount');
        },
      },
    });
    const runner = new PostgresProjectionRunner({ store, projections: [projection], logger: silent });
    await runner.start();
    await runner.waitUntilCaughtUp();
    await runner.stop();
    const letters = await runner.deadLetters.list('tolerant');
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({
      projection: 'tolerant',
      key: 'tolerant',
      eventType: 'Deposited',
      streamId: 'account-poison',
      position: poison.lastPosition,
      error: 'RangeError: bad amount',
      attempts: 3,
    });
    expect(letters[0]!.stack).toContain('RangeError');
    // The poison event's own writes rolled back; the others are applied once.
    expect(await exactlyOnce()).toEqual({ events: 3, applied: 2, maxTimes: 1 });
    expect(runner.status('tolerant')).toMatchObject({ position: last.lastPosition, deadLettered: 1 });
    await store.close();
  });

  it('rebuilds: reset and checkpoint to zero in one transaction, replay with progress, caught up while appending', async () => {
    const { store, apply, reset, deposit, exactlyOnce, db } = await setup();
    for (let i = 0; i < 40; i++) await deposit(`a${i % 5}`, 1);
    const projection = defineProjection({
      name: 'rebuilt',
      events: [Deposited],
      batchSize: 7,
      handlers: { Deposited: (e, { tx }: PostgresProjectionContext) => apply(tx, e) },
      reset: ({ tx }: PostgresProjectionContext) => reset(tx),
    });
    const runner = new PostgresProjectionRunner({ store, projections: [projection], logger: silent });
    await runner.start();
    await runner.waitUntilCaughtUp();
    await db.insertInto('balances').values({ account_id: 'stale', balance: 99 }).execute();

    let appending = true;
    const appender = (async () => {
      while (appending) await deposit('live', 1);
    })();
    const progress: RebuildProgress[] = [];
    const result = await runner.rebuild('rebuilt', { onProgress: (p) => progress.push(p) });
    appending = false;
    await appender;
    await runner.waitUntilCaughtUp();
    await runner.stop();

    const counts = await exactlyOnce();
    expect(counts.applied).toBe(counts.events);
    expect(counts.maxTimes).toBe(1);
    expect(
      await db.selectFrom('balances').select('account_id').where('account_id', '=', 'stale').execute(),
    ).toEqual([]);
    expect(result.events).toBeGreaterThanOrEqual(40);
    expect(progress.at(-1)!.done).toBe(result.events);
    expect(progress[0]!.total).toBeGreaterThanOrEqual(40);
    expect(progress.every((p) => p.rate > 0 && p.etaMs >= 0 && p.done <= p.total)).toBe(true);
    await store.close();
  });

  it('with leases, runs a projection on one runner at a time and fails over from the checkpoint', async () => {
    const { store, apply, deposit, exactlyOnce } = await setup();
    for (let i = 0; i < 10; i++) await deposit('a', 1);
    const projection = defineProjection({
      name: 'leased',
      events: [Deposited],
      handlers: { Deposited: (e, { tx }: PostgresProjectionContext) => apply(tx, e) },
    });
    const make = (owner: string) =>
      new PostgresProjectionRunner({
        store,
        projections: [projection],
        leases: true,
        owner,
        leaseTtlMs: HONEST_TTL_MS,
        logger: silent,
      });
    const a = make('node-a');
    const b = make('node-b');
    await a.start();
    await a.waitUntilCaughtUp();
    await b.start();
    await waitFor(() => b.status('leased')!.state === 'standby', 'b in standby');
    expect(a.status('leased')!.state).toBe('running');
    expect((await new PostgresLeaseStore(store).get('leased'))?.owner).toBe('node-a');
    await a.stop();
    await deposit('a', 1);
    await waitFor(() => b.status('leased')!.state === 'running', 'b takes over');
    await b.waitUntilCaughtUp();
    expect(await exactlyOnce()).toEqual({ events: 11, applied: 11, maxTimes: 1 });
    await b.stop();
    await store.close();
  });

  it('spreads the shards of one projection over two runners; every event applied once', async () => {
    const { store, apply, deposit, exactlyOnce } = await setup();
    for (let i = 0; i < 30; i++) await deposit(`s${i % 7}`, 1);
    const projection = defineProjection({
      name: 'sharded',
      events: [Deposited],
      shards: 4,
      handlers: { Deposited: (e, { tx }: PostgresProjectionContext) => apply(tx, e) },
    });
    const make = (owner: string) =>
      new PostgresProjectionRunner({
        store,
        projections: [projection],
        leases: true,
        owner,
        leaseTtlMs: HONEST_TTL_MS,
        logger: silent,
      });
    const held = (r: PostgresProjectionRunner) =>
      r.status().filter((s) => s.state === 'running' || s.state === 'catching-up').length;
    const a = make('node-a');
    const b = make('node-b');
    await a.start();
    await b.start();
    await waitFor(() => held(a) === 2 && held(b) === 2, 'two shards each');
    for (let i = 0; i < 10; i++) await deposit(`s${i % 7}`, 1);
    await a.waitUntilCaughtUp();
    await b.waitUntilCaughtUp();
    expect(await exactlyOnce()).toEqual({ events: 40, applied: 40, maxTimes: 1 });
    await Promise.all([a.stop(), b.stop()]);
    await store.close();
  });
});
