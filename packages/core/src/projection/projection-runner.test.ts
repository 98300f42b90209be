import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineEvent } from '../events/define-event.js';
import type { RecordedEvent } from '../events/event-types.js';
import type { SubscribeToAllOptions } from '../store/event-store.js';
import { InMemoryEventStore } from '../store/in-memory-event-store.js';
import { UpcasterRegistry } from '../upcasting/upcaster-registry.js';
import type { CheckpointSaveOptions, CheckpointStore } from './checkpoint-store.js';
import type { StoredDeadLetter } from './dead-letter-store.js';
import { defineProjection, type Projection } from './define-projection.js';
import { readAllLogStats } from './event-log-stats.js';
import { InMemoryCheckpointStore } from './in-memory-checkpoint-store.js';
import { InMemoryLeaseStore } from './in-memory-lease-store.js';
import {
  isCheckpointConflict,
  LeaseLost,
  ProjectionDefinitionInvalid,
  ProjectionFailed,
} from './projection-errors.js';
import { ProjectionRunner } from './projection-runner.js';
import type { RebuildProgress } from './projection-status.js';
import { shardOf } from './shard.js';

const Opened = defineEvent('Opened', { schema: z.object({ accountId: z.string() }) });
const Deposited = defineEvent('Deposited', {
  version: 2,
  schema: z.object({ accountId: z.string(), amount: z.object({ value: z.number(), currency: z.string() }) }),
});
const Noted = defineEvent('Noted', { schema: z.object({ text: z.string() }) });
const upcasters = new UpcasterRegistry().register({
  type: 'Deposited',
  from: 1,
  to: 2,
  up: (v1: { accountId: string; amount: number }) => ({
    accountId: v1.accountId,
    amount: { value: v1.amount, currency: 'EUR' },
  }),
});

const silent = { warn: () => {}, error: () => {} };
const fastFailure = { retries: 2, backoff: { initialMs: 1, maxMs: 5 } };

function newStore() {
  return new InMemoryEventStore({ events: [Opened, Deposited, Noted], upcasters });
}

async function deposit(store: InMemoryEventStore, accountId: string, value: number) {
  await store.append(`account-${accountId}`, [
    Deposited.create({ accountId, amount: { value, currency: 'EUR' } }),
  ]);
}

/** A read model: applied deposits per event id, so a double application shows. */
function balances() {
  const applied = new Map<string, number>();
  const byAccount = new Map<string, number>();
  return {
    applied,
    byAccount,
    apply(e: RecordedEvent<'Deposited', { accountId: string; amount: { value: number } }>) {
      applied.set(e.id, (applied.get(e.id) ?? 0) + 1);
      byAccount.set(e.data.accountId, (byAccount.get(e.data.accountId) ?? 0) + e.data.amount.value);
    },
    reset() {
      applied.clear();
      byAccount.clear();
    },
    appliedOnce(ids: readonly string[]) {
      return ids.every((id) => applied.get(id) === 1) && applied.size === ids.length;
    },
  };
}

/**
 * Polls until `condition` holds. The bound only stops a broken runner from hanging the test; it is
 * far above what any condition here takes, even on a loaded machine.
 */
async function waitFor(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * A lease time-to-live no pause of a loaded test process comes near. Without a `transaction`, a
 * handler's effect on a plain object cannot be rolled back, so a runner that lost its lease (a pause
 * longer than the TTL) and a runner that took over would both apply the same event: the runner
 * promises exactly once only for effects that commit with the checkpoint. Tests of handover with such
 * a model therefore need leases that expire only when the test means them to (on `stop()`, which
 * releases them).
 */
const HONEST_TTL_MS = 3_000;

async function allIds(store: InMemoryEventStore, type = 'Deposited'): Promise<string[]> {
  const ids: string[] = [];
  for await (const e of store.readAll({ filter: { types: [type] } })) ids.push(e.id);
  return ids;
}

describe('ProjectionRunner (in memory)', () => {
  it('status() right after await start() says what each projection does: catching-up, running or standby, never stopped', async () => {
    const store = newStore();
    for (let i = 0; i < 3; i++) await deposit(store, 'a', 1);
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
    const leases = new InMemoryLeaseStore();
    const checkpoints = new InMemoryCheckpointStore({ leases });
    const options = { store, projections: [behind, idle], logger: silent, leases, checkpoints };
    const first = new ProjectionRunner({ ...options, owner: 'first' });
    const second = new ProjectionRunner({ ...options, owner: 'second' });
    const states = (runner: ProjectionRunner) =>
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
  });

  it('counts the lag over the log at start and on the timer only while running live; catching up counts it down', async () => {
    const store = newStore();
    for (let i = 0; i < 3; i++) await deposit(store, 'a', 1);
    let counts = 0;
    const counting = readAllLogStats(store);
    const stats = {
      pending: (options: Parameters<typeof counting.pending>[0]) => {
        counts++;
        return counting.pending(options);
      },
    };
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const projection = defineProjection({
      name: 'slow',
      events: [Deposited],
      handlers: { Deposited: () => held },
    });
    const runner = new ProjectionRunner({
      store,
      projections: [projection],
      logger: silent,
      stats,
      statusRefreshMs: 5,
    });
    await runner.start();
    await waitFor(() => runner.status()[0]?.state === 'catching-up', 'catching up');
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(counts, 'counts over the log while catching up (only the one at start)').toBe(1);
    release();
    await runner.waitUntilCaughtUp();
    expect(runner.status()[0]?.lag.events).toBe(0);
    await waitFor(() => counts > 1, 'a count on the timer once running');
    await runner.stop();
  });

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

  it('reports lag in events and milliseconds while stopped behind, and none once caught up', async () => {
    const store = newStore();
    const model = balances();
    const projection = defineProjection({
      name: 'lag',
      events: [Deposited],
      handlers: { Deposited: (e) => model.apply(e) },
    });
    const runner = new ProjectionRunner({ store, projections: [projection], logger: silent });
    for (let i = 0; i < 5; i++) await deposit(store, 'a', 1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const [behind] = await runner.refreshStatus();
    expect(behind!.state).toBe('stopped');
    expect(behind!.lag.events).toBe(5);
    expect(behind!.lag.ms).toBeGreaterThanOrEqual(20);
    await runner.start();
    await runner.waitUntilCaughtUp();
    const [caughtUp] = await runner.refreshStatus();
    expect(caughtUp!.lag).toEqual({ events: 0, ms: 0 });
    await runner.stop();
  });

  it('retries a failing handler with backoff, then fails that projection only, keeping error and position', async () => {
    const store = newStore();
    for (let i = 0; i < 3; i++) await deposit(store, 'a', 1);
    await deposit(store, 'poison', 1);
    await deposit(store, 'a', 1);
    let attempts = 0;
    const model = balances();
    const failing = defineProjection({
      name: 'failing',
      events: [Deposited],
      failure: fastFailure,
      handlers: {
        Deposited: (e) => {
          if (e.data.accountId === 'poison') {
            attempts++;
            throw new Error('cannot apply poison');
          }
          model.apply(e);
        },
      },
    });
    const other = balances();
    const healthy = defineProjection({
      name: 'healthy',
      events: [Deposited],
      handlers: { Deposited: (e) => other.apply(e) },
    });
    const runner = new ProjectionRunner({ store, projections: [failing, healthy], logger: silent });
    await runner.start();
    await expect(runner.waitUntilCaughtUp('failing')).rejects.toBeInstanceOf(ProjectionFailed);
    const status = runner.status('failing')!;
    expect(status.state).toBe('failed');
    expect(attempts).toBe(3); // the first attempt and two retries
    expect(status.position).toBe(3n); // just before the poison event, never past it
    expect(status.lastError?.event?.position).toBe(4n);
    expect(status.lastError?.event?.streamId).toBe('account-poison');
    expect(status.lastError?.attempts).toBe(3);
    expect(status.lastError?.message).toBe('Error: cannot apply poison');
    expect(model.applied.size).toBe(3);

    await deposit(store, 'b', 2);
    await runner.waitUntilCaughtUp('healthy');
    expect(other.applied.size).toBe(6);
    expect(runner.status('healthy')!.state).toBe('running');
    await runner.stop();
    expect(runner.status('failing')!.state).toBe('failed'); // stopping keeps the failure visible
  });

  it('restart() resumes a failed projection from the event it failed on', async () => {
    const store = newStore();
    await deposit(store, 'a', 1);
    await deposit(store, 'poison', 1);
    await deposit(store, 'a', 1);
    let broken = true;
    const model = balances();
    const projection = defineProjection({
      name: 'p',
      events: [Deposited],
      failure: { retries: 0 },
      handlers: {
        Deposited: (e) => {
          if (broken && e.data.accountId === 'poison') throw new Error('not yet');
          model.apply(e);
        },
      },
    });
    const runner = new ProjectionRunner({ store, projections: [projection], logger: silent });
    await runner.start();
    await expect(runner.waitUntilCaughtUp()).rejects.toThrow(
      /Projection p failed on event .* after 1 attempt: Error: not yet/,
    );
    broken = false;
    await runner.restart('p');
    await runner.waitUntilCaughtUp();
    expect(model.appliedOnce(await allIds(store))).toBe(true);
    expect(runner.status('p')!.state).toBe('running');
    expect(runner.status('p')!.lastError?.message).toBe('Error: not yet'); // the last error is kept
    await runner.stop();
  });

  it("skips a poison event only under 'dead-letter', recording it", async () => {
    const store = newStore();
    await deposit(store, 'a', 1);
    await deposit(store, 'poison', 1);
    await deposit(store, 'a', 1);
    const model = balances();
    const projection = defineProjection({
      name: 'p',
      events: [Deposited],
      failure: { ...fastFailure, onExhausted: 'dead-letter' },
      handlers: {
        Deposited: (e) => {
          if (e.data.accountId === 'poison') throw new TypeError('bad data');
          model.apply(e);
        },
      },
    });
    const runner = new ProjectionRunner({ store, projections: [projection], logger: silent });
    await runner.start();
    await runner.waitUntilCaughtUp();
    const ids = await allIds(store);
    expect(model.applied.size).toBe(2);
    expect(model.applied.has(ids[1]!)).toBe(false);
    const letters = await runner.deadLetters.list('p');
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({
      projection: 'p',
      key: 'p',
      eventId: ids[1],
      eventType: 'Deposited',
      streamId: 'account-poison',
      position: 2n,
      error: 'TypeError: bad data',
      attempts: 3,
    });
    expect(runner.status('p')).toMatchObject({ state: 'running', position: 3n, deadLettered: 1 });
    await runner.stop();
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

  it('retries transient failures for as long as they last, without failing or dead-lettering', async () => {
    const store = newStore();
    for (let i = 0; i < 4; i++) await deposit(store, 'a', 1);
    const model = balances();
    let outage = 6; // more failures in a row than the policy's retries
    class ConnectionLost extends Error {}
    const projection = defineProjection({
      name: 'outage',
      events: [Deposited],
      failure: { retries: 1, backoff: { initialMs: 1, maxMs: 2 }, onExhausted: 'dead-letter' },
      handlers: {
        Deposited: (e) => {
          if (e.position === 3n && outage-- > 0) throw new ConnectionLost('connection terminated');
          model.apply(e);
        },
      },
    });
    const runner = new ProjectionRunner({
      store,
      projections: [projection],
      isTransient: (error) => error instanceof ConnectionLost,
      logger: silent,
    });
    await runner.start();
    await runner.waitUntilCaughtUp();
    await runner.stop();
    expect(outage).toBe(-1);
    expect(model.appliedOnce(await allIds(store))).toBe(true);
    expect(await runner.deadLetters.list()).toEqual([]);
    expect(runner.status('outage')!.lastError).toMatchObject({
      message: 'Error: connection terminated',
      attempts: 6,
    });
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

  it('rebuilds through the reset hook, reporting progress, and ends caught up while appends go on', async () => {
    const store = newStore();
    for (let i = 0; i < 30; i++) await deposit(store, `s${i % 4}`, 1);
    const model = balances();
    let resets = 0;
    const projection = defineProjection({
      name: 'rebuilt',
      events: [Deposited],
      batchSize: 5,
      handlers: { Deposited: (e) => model.apply(e) },
      reset: () => {
        resets++;
        model.reset();
      },
    });
    const runner = new ProjectionRunner({ store, projections: [projection], logger: silent });
    await runner.start();
    await runner.waitUntilCaughtUp();
    model.byAccount.set('corrupted', 1);

    let appending = true;
    const appender = (async () => {
      while (appending) {
        await deposit(store, 'live', 1);
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    })();
    const progress: RebuildProgress[] = [];
    const result = await runner.rebuild('rebuilt', { onProgress: (p) => progress.push(p) });
    appending = false;
    await appender;
    await runner.waitUntilCaughtUp();

    expect(resets).toBe(1);
    expect(model.byAccount.has('corrupted')).toBe(false);
    expect(model.appliedOnce(await allIds(store))).toBe(true);
    expect(result.events).toBeGreaterThanOrEqual(30);
    expect(progress.length).toBeGreaterThan(1);
    const last = progress.at(-1)!;
    expect(last.done).toBe(result.events);
    expect(last.total).toBeGreaterThanOrEqual(last.done);
    expect(last.rate).toBeGreaterThan(0);
    expect(progress[0]!.total).toBeGreaterThanOrEqual(30);
    expect(progress[0]!.etaMs).toBeGreaterThanOrEqual(0);
    for (let i = 1; i < progress.length; i++)
      expect(progress[i]!.done).toBeGreaterThan(progress[i - 1]!.done);
    expect(runner.status('rebuilt')!.state).toBe('running');
    await runner.stop();
  });

  it('rebuilds a stopped runner and leaves it stopped; refuses a projection without reset', async () => {
    const store = newStore();
    for (let i = 0; i < 3; i++) await deposit(store, 'a', 1);
    const model = balances();
    const projection = defineProjection({
      name: 'r',
      events: [Deposited],
      handlers: { Deposited: (e) => model.apply(e) },
      reset: () => model.reset(),
    });
    const noReset = defineProjection({ name: 'n', events: [Deposited], handlers: { Deposited: () => {} } });
    const runner = new ProjectionRunner({ store, projections: [projection, noReset], logger: silent });
    const result = await runner.rebuild('r');
    expect(result.events).toBe(3);
    expect(model.appliedOnce(await allIds(store))).toBe(true);
    expect(runner.status('r')!.state).toBe('stopped');
    await expect(runner.rebuild('n')).rejects.toBeInstanceOf(ProjectionDefinitionInvalid);
    await expect(runner.rebuild('missing')).rejects.toThrow(/no projection named missing; it runs r, n/);
  });

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
      logger: { warn: (_message, details) => warnings.push(details?.error), error: () => {} },
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

  describe('batch handlers', () => {
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

  it('refuses bad runner options with a clear error', () => {
    const store = newStore();
    const p = defineProjection({ name: 'p', handlers: { A: () => {} } });
    expect(() => new ProjectionRunner({ store, projections: [] })).toThrow(/at least one projection/);
    expect(() => new ProjectionRunner({ store, projections: [p, p] })).toThrow(
      /Projection p: the runner was given two projections with this name/,
    );
    expect(() => new ProjectionRunner({ store, projections: [p], batchSize: 0 })).toThrow(
      /batchSize must be a positive integer, found 0/,
    );
    expect(
      () => new ProjectionRunner({ store, projections: [p], transaction: async (work) => work(undefined) }),
    ).toThrow(/needs a checkpoint store that joins it/);
  });

  it('refuses at construction an owner, or a membership lease key, that no lease store accepts', () => {
    const store = newStore();
    const leases = new InMemoryLeaseStore();
    const p = defineProjection({ name: 'p', handlers: { A: () => {} } });
    const sharded = defineProjection({ name: 's'.repeat(200), handlers: { A: () => {} }, shards: 4 });
    for (const [owner, found] of [
      ['node-\ud800', /options\.owner must be .*found a lone surrogate \(\\ud800\) at index 5/],
      ['node\u0000', /options\.owner must be .*found the NUL character at index 4/],
      ['n'.repeat(1025), /options\.owner must be .*1024 UTF-8 bytes.*found 1025 bytes/],
    ] as const) {
      let caught: unknown;
      try {
        new ProjectionRunner({ store, projections: [p], owner, leases });
      } catch (error) {
        caught = error;
      }
      expect(caught, `owner ${JSON.stringify(owner.slice(0, 10))}`).toBeInstanceOf(
        ProjectionDefinitionInvalid,
      );
      expect((caught as Error).message).toMatch(found);
    }
    // The membership lease of a sharded projection is `<name>/members/<owner>`: it must fit too.
    expect(
      () => new ProjectionRunner({ store, projections: [sharded], owner: 'o'.repeat(900), leases }),
    ).toThrow(/membership lease key must be .*1024 UTF-8 bytes.*found 1109 bytes/);
    expect(
      () => new ProjectionRunner({ store, projections: [sharded], owner: 'o'.repeat(815), leases }),
    ).not.toThrow();
  });
});

/** The staged writes of one transaction of {@link TransactionalModel}. */
interface Staged {
  readonly applied: Map<string, number>;
  readonly checkpoints: Map<string, bigint>;
}

/**
 * A read model and checkpoint table with transactions: writes are staged and published only when
 * the unit of work resolves, like a database's.
 */
class TransactionalModel {
  applied = new Map<string, number>();
  committedCheckpoints = new Map<string, bigint>();
  commits = 0;

  constructor(readonly leases?: InMemoryLeaseStore) {}

  transaction = async <R>(work: (tx: Staged) => Promise<R>): Promise<R> => {
    const tx: Staged = { applied: new Map(this.applied), checkpoints: new Map(this.committedCheckpoints) };
    const result = await work(tx);
    this.applied = tx.applied;
    this.committedCheckpoints = tx.checkpoints;
    this.commits++;
    return result;
  };

  readonly checkpoints: CheckpointStore<Staged> = {
    load: async (key) => this.committedCheckpoints.get(key),
    save: async (key: string, position: bigint, options: CheckpointSaveOptions<Staged>) => {
      const tx = options.transaction!;
      if (this.leases !== undefined) {
        const lease = await this.leases.get(key);
        if (lease?.owner !== options.owner) throw new LeaseLost(key, options.owner, 'lease taken');
      }
      if (tx.checkpoints.get(key) !== options.expected)
        throw new LeaseLost(key, options.owner, 'checkpoint moved');
      tx.checkpoints.set(key, position);
    },
  };
}
