import {
  defineEvent,
  defineProjection,
  isAnnalsError,
  LeaseLost,
  ProjectionFailed,
  type RebuildProgress,
  StreamNotFound,
  UpcasterRegistry,
} from '@annals/core';
import { MAX_KEY_BYTES } from '@annals/core/adapter';
import type { PGlite } from '@electric-sql/pglite';
import { type Kysely, sql, type Transaction } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startPGlite } from '../../../../test/support/pglite.js';
import { PostgresEventStore } from '../store/postgres-event-store.js';
import { withInlineProjections } from './inline-projections.js';
import { PostgresDeadLetterStore } from './postgres-dead-letter-store.js';
import { PostgresEventLogStats } from './postgres-event-log-stats.js';
import { PostgresLeaseStore } from './postgres-lease-store.js';
import { PostgresLeasedCheckpointStore } from './postgres-leased-checkpoint-store.js';
import { type PostgresProjectionContext, PostgresProjectionRunner } from './postgres-projection-runner.js';

const Opened = defineEvent('Opened', { schema: z.object({ accountId: z.string() }) });
const Deposited = defineEvent('Deposited', {
  schema: z.object({ accountId: z.string(), amount: z.number() }),
});
const Noted = defineEvent('Noted', { schema: z.object({ text: z.string() }) });
const upcasters = new UpcasterRegistry().register({
  type: 'FundsAdded',
  from: 1,
  toType: 'Deposited',
  to: 1,
  up: (d: { accountId: string; amount: number }) => d,
});

const silent = { warn: () => {}, error: () => {} };
const fastFailure = { retries: 2, backoff: { initialMs: 1, maxMs: 5 } };

let pglite: PGlite;
let schemas = 0;

beforeAll(async () => {
  pglite = await startPGlite();
});
afterAll(async () => {
  await pglite?.close();
});

/** A fresh store in its own schema, with a read model: balances, and how often each event was applied. */
async function setup() {
  const schema = `proj_${process.pid}_${++schemas}`;
  const store = await PostgresEventStore.create(
    { pglite: pglite as never },
    { schema, events: [Opened, Deposited, Noted], upcasters },
  );
  await store.migrate();
  const db = store.kysely.withSchema(schema) as Kysely<any>;
  await sql`create table ${sql.id(schema, 'balances')} (account_id text primary key, balance bigint not null)`.execute(
    store.kysely,
  );
  await sql`create table ${sql.id(schema, 'applied')} (event_id uuid primary key, times integer not null)`.execute(
    store.kysely,
  );
  /** Applies a deposit to the read model inside the batch's transaction. */
  const apply = async (
    tx: Transaction<any>,
    e: { id: string; data: { accountId: string; amount: number } },
  ) => {
    const t = tx.withSchema(schema);
    await t
      .insertInto('balances')
      .values({ account_id: e.data.accountId, balance: e.data.amount })
      .onConflict((c) =>
        c
          .column('account_id')
          .doUpdateSet({ balance: sql`${sql.ref('balances.balance')} + ${e.data.amount}` }),
      )
      .execute();
    await t
      .insertInto('applied')
      .values({ event_id: e.id, times: 1 })
      .onConflict((c) => c.column('event_id').doUpdateSet({ times: sql`${sql.ref('applied.times')} + 1` }))
      .execute();
  };
  /** The same read model written set-based: two statements per batch, whatever its size. */
  const applyAll = async (
    tx: Transaction<any>,
    events: readonly { id: string; data: { accountId: string; amount: number } }[],
  ) => {
    const balances = sql.id(schema, 'balances');
    const applied = sql.id(schema, 'applied');
    await sql`insert into ${balances} as b (account_id, balance)
      select a, sum(n) from unnest(${events.map((e) => e.data.accountId)}::text[], ${events.map((e) => e.data.amount)}::bigint[]) as u(a, n)
      group by a
      on conflict (account_id) do update set balance = b.balance + excluded.balance`.execute(tx);
    await sql`insert into ${applied} as t (event_id, times)
      select id, 1 from unnest(${events.map((e) => e.id)}::uuid[]) as u(id)
      on conflict (event_id) do update set times = t.times + 1`.execute(tx);
  };
  const reset = async (tx: Transaction<any>) => {
    await tx.withSchema(schema).deleteFrom('balances').execute();
    await tx.withSchema(schema).deleteFrom('applied').execute();
  };
  /** Every deposit applied exactly once, and nothing else applied. */
  const exactlyOnce = async () => {
    const events = await db
      .selectFrom('events')
      .select(sql<number>`count(*)::int`.as('n'))
      .where('type', 'in', ['Deposited', 'FundsAdded'])
      .executeTakeFirstOrThrow();
    const applied = await db
      .selectFrom('applied')
      .select([sql<number>`count(*)::int`.as('n'), sql<number>`coalesce(max(times), 0)::int`.as('max')])
      .executeTakeFirstOrThrow();
    return { events: events.n, applied: applied.n, maxTimes: applied.max };
  };
  const balance = async (accountId: string) =>
    Number(
      (
        await db
          .selectFrom('balances')
          .select('balance')
          .where('account_id', '=', accountId)
          .executeTakeFirst()
      )?.balance ?? 0,
    );
  const deposit = (accountId: string, amount: number) =>
    store.append(`account-${accountId}`, [Deposited.create({ accountId, amount })]);
  return { schema, store, db, apply, applyAll, reset, exactlyOnce, balance, deposit };
}

/** Polls until `condition` holds; the bound only stops a broken runner from hanging the test. */
async function waitFor(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * A lease time-to-live no pause of a loaded test process comes near, so a lease moves only when the
 * test means it to (`stop()` releases it). With a shorter one a pause hands the projection to the
 * other runner at a moment the test does not expect (the transaction keeps it exactly once).
 */
const HONEST_TTL_MS = 3_000;

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

  it('applies a batch projection inline: the appended events in one call, in the append transaction', async () => {
    const { store, applyAll, balance, exactlyOnce } = await setup();
    const calls: number[] = [];
    const projection = defineProjection({
      name: 'inline-batch',
      events: [Deposited],
      handleBatch: async (events, { tx }: PostgresProjectionContext) => {
        calls.push(events.length);
        if (events.some((e) => e.data.amount < 0)) throw new RangeError('negative deposit');
        await applyAll(tx, events);
      },
    });
    const inline = withInlineProjections(store, [projection]);
    await inline.append('account-x', [
      Deposited.create({ accountId: 'x', amount: 10 }),
      Deposited.create({ accountId: 'x', amount: 5 }),
      Noted.create({ text: 'not handled' }),
    ]);
    expect(calls).toEqual([2]);
    expect(await balance('x')).toBe(15);
    await expect(
      inline.append('account-y', [Deposited.create({ accountId: 'y', amount: -1 })]),
    ).rejects.toThrow('negative deposit');
    expect(await exactlyOnce()).toEqual({ events: 2, applied: 2, maxTimes: 1 });
    await store.close();
  });
});

describe('PostgresLeaseStore and PostgresLeasedCheckpointStore (PGlite)', () => {
  it('grants a lease to one owner until it expires or is released', async () => {
    const { store } = await setup();
    const leases = new PostgresLeaseStore(store);
    expect(await leases.acquire('p', 'a', 60_000)).toBe(true);
    expect(await leases.acquire('p', 'b', 60_000)).toBe(false);
    expect(await leases.acquire('p', 'a', 60_000)).toBe(true);
    expect(await leases.renew('p', 'b', 60_000)).toBe(false);
    expect(await leases.renew('p', 'a', 60_000)).toBe(true);
    expect((await leases.get('p'))?.owner).toBe('a');
    await leases.release('p', 'b');
    expect((await leases.get('p'))?.owner).toBe('a');
    await leases.release('p', 'a');
    expect(await leases.get('p')).toBeUndefined();
    expect(await leases.acquire('q', 'a', 30)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(await leases.get('q')).toBeUndefined();
    expect(await leases.acquire('q', 'b', 60_000)).toBe(true);
    await leases.acquire('m/members/y', 'y', 60_000);
    await leases.acquire('m/members/x', 'x', 60_000);
    expect((await leases.list('m/members/')).map((l) => l.owner)).toEqual(['x', 'y']);
    await store.close();
  });

  it('moves a checkpoint only for the lease holder and only from the expected position', async () => {
    const { store, db } = await setup();
    const leases = new PostgresLeaseStore(store);
    const checkpoints = new PostgresLeasedCheckpointStore(store);
    await expect(checkpoints.save('p', 5n, { expected: undefined, owner: 'a' })).rejects.toThrow(
      /holds no lease/,
    );
    await leases.acquire('p', 'a', 60_000);
    await checkpoints.save('p', 5n, { expected: undefined, owner: 'a' });
    await expect(checkpoints.save('p', 6n, { expected: 4n, owner: 'a' })).rejects.toThrow(
      /checkpoint moved: expected 4, found 5/,
    );
    await expect(checkpoints.save('p', 6n, { expected: 5n, owner: 'b' })).rejects.toThrow(
      /lease is held by a/,
    );
    // Inside a transaction, a failed swap leaves the caller's writes to roll back with it.
    await sql`create table ${sql.id(store.schema, 'side')} (n int)`.execute(store.kysely);
    const error = await store
      .transaction(async (tx) => {
        await tx.withSchema(store.schema).insertInto('side').values({ n: 1 }).execute();
        await checkpoints.save('p', 6n, { expected: 5n, owner: 'b', transaction: tx });
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LeaseLost);
    expect(await db.selectFrom('side').selectAll().execute()).toEqual([]);
    expect(await checkpoints.load('p')).toBe(5n);
    await store.close();
  });
});

describe('PostgresLeaseStore and PostgresDeadLetterStore refuse keys they could not keep apart (PGlite)', () => {
  // PostgreSQL keeps text as UTF-8: a lone surrogate would become U+FFFD (two keys stored as one),
  // the NUL character and a key past the btree entry size are raw driver errors.
  it('refuses a lease key, owner or prefix with NUL or a lone surrogate or over MAX_KEY_BYTES, in every method, writing nothing', async () => {
    const { store } = await setup();
    const leases = new PostgresLeaseStore(store);
    for (const [bad, found] of BAD_KEYS) {
      for (const [what, action] of [
        ['lease key', () => leases.acquire(bad, 'a', 60_000)],
        ['lease key', () => leases.renew(bad, 'a', 60_000)],
        ['lease key', () => leases.release(bad, 'a')],
        ['lease key', () => leases.get(bad)],
        ['lease owner', () => leases.acquire('k', bad, 60_000)],
        ['lease owner', () => leases.renew('k', bad, 60_000)],
        ['lease owner', () => leases.release('k', bad)],
        ['lease prefix', () => leases.list(bad)],
      ] as const) {
        await expectInvalidKey(action, what, found);
      }
    }
    expect(await leases.list(''), 'nothing was written').toEqual([]);
    const longest = 'é'.repeat(MAX_KEY_BYTES / 2);
    expect(await leases.acquire(longest, longest, 60_000)).toBe(true);
    expect((await leases.get(longest))?.owner, 'a key and owner of exactly MAX_KEY_BYTES').toBe(longest);
    await store.close();
  });

  it('refuses a dead-letter projection name or key with NUL or a lone surrogate or over MAX_KEY_BYTES, writing nothing', async () => {
    const { store } = await setup();
    const letters = new PostgresDeadLetterStore(store);
    const letter = {
      projection: 'p',
      key: 'p',
      eventId: '0190a3b4-0000-7000-8000-000000000001',
      eventType: 'T',
      streamId: 's',
      position: 3n,
      error: 'Error: boom',
      attempts: 2,
      recordedAt: new Date(),
    };
    for (const [bad, found] of BAD_KEYS) {
      await expectInvalidKey(
        () => letters.record({ ...letter, projection: bad }),
        'dead-letter projection',
        found,
      );
      await expectInvalidKey(() => letters.record({ ...letter, key: bad }), 'dead-letter key', found);
      await expectInvalidKey(() => letters.list(bad), 'dead-letter projection', found);
    }
    expect(await letters.list(), 'nothing was written').toEqual([]);
    const longest = 'é'.repeat(MAX_KEY_BYTES / 2);
    await letters.record({ ...letter, projection: longest, key: longest });
    expect((await letters.list(longest)).map((l) => l.key)).toEqual([longest]);
    await store.close();
  });
});

/** Keys no store accepts, with what the refusal must say it found. */
const BAD_KEYS = [
  ['k\u0000', 'the NUL character'],
  ['k-\ud800', 'a lone surrogate (\\ud800) at index 2'],
  ['k'.repeat(MAX_KEY_BYTES + 1), `${MAX_KEY_BYTES + 1} bytes`],
  ['k'.repeat(3000), '3000 bytes'],
] as const;

/** Asserts `action` fails with InvalidArgument naming the argument, the limit and what it found. */
async function expectInvalidKey(action: () => Promise<unknown>, what: string, found: string): Promise<void> {
  const error = await action().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isAnnalsError(error) && error.code, `${what} with ${found}: the code (found ${String(error)})`).toBe(
    'INVALID_ARGUMENT',
  );
  const message = (error as Error).message;
  expect(message, 'the message names the argument').toContain(what);
  expect(message, 'the message names the limit').toContain(`${MAX_KEY_BYTES} UTF-8 bytes`);
  expect(message, 'the message says what was found').toContain(found);
}

describe('PostgresEventLogStats (PGlite)', () => {
  it('counts the pending events of the handled types, renamed stored types included', async () => {
    const { store, deposit } = await setup();
    await deposit('a', 1);
    await store.append('legacy', [{ type: 'FundsAdded', data: { accountId: 'l', amount: 2 } }], {
      import: true,
    });
    await store.append('notes', [Noted.create({ text: 'x' })]);
    const last = await deposit('a', 1);
    const stats = new PostgresEventLogStats(store);
    const all = await stats.pending({ afterPosition: 0n, filter: { types: ['Deposited'] } });
    expect(all.count).toBe(3);
    expect(all.lastPosition).toBe(last.lastPosition);
    expect(all.oldestRecordedAt).toBeInstanceOf(Date);
    expect(
      (await stats.pending({ afterPosition: last.lastPosition, filter: { types: ['Deposited'] } })).count,
    ).toBe(0);
    expect((await stats.pending({ afterPosition: 0n })).count).toBe(4);
    await store.close();
  });
});

describe('inline projections (PGlite)', () => {
  it('apply in the append transaction; a failing handler fails the append and nothing is stored', async () => {
    const { store, apply, balance, exactlyOnce } = await setup();
    const projection = defineProjection({
      name: 'inline-balances',
      events: [Deposited],
      handlers: {
        Deposited: async (e, { tx }: PostgresProjectionContext) => {
          if (e.data.amount < 0) throw new RangeError('negative deposit');
          await apply(tx, e);
        },
      },
    });
    const inline = withInlineProjections(store, [projection]);
    const first = Deposited.create({ accountId: 'x', amount: 10 });
    const firstId = '0190a4d2-0000-7000-8000-0000000000aa';
    await inline.append('account-x', [{ ...first, id: firstId }], { expectedRevision: 'no_stream' });
    expect(await balance('x')).toBe(10); // read-your-writes: applied when append resolved

    await expect(
      inline.append('account-y', [
        Deposited.create({ accountId: 'y', amount: 5 }),
        Deposited.create({ accountId: 'y', amount: -1 }),
      ]),
    ).rejects.toThrow('negative deposit');
    await expect(async () => {
      for await (const _ of store.readStream('account-y')) void _;
    }).rejects.toBeInstanceOf(StreamNotFound);
    expect(await balance('y')).toBe(0);

    // An idempotent re-append stores nothing and applies nothing again.
    await inline.append('account-x', [{ ...first, id: firstId }], { expectedRevision: 'no_stream' });
    expect(await balance('x')).toBe(10);
    expect(await exactlyOnce()).toEqual({ events: 1, applied: 1, maxTimes: 1 });
    await store.close();
  });
});
