import { describe, expect, it } from 'vitest';
import {
  balances,
  Deposited,
  deposit,
  Noted,
  newStore,
  silent,
  waitFor,
} from '../../../../test/support/projection-runner-fixtures.js';
import { defineProjection } from './define-projection.js';
import { readAllLogStats } from './event-log-stats.js';
import { InMemoryCheckpointStore } from './in-memory-checkpoint-store.js';
import { InMemoryLeaseStore } from './in-memory-lease-store.js';
import { ProjectionDefinitionInvalid } from './projection-errors.js';
import { ProjectionRunner } from './projection-runner.js';

describe('ProjectionRunner status and options (in memory)', () => {
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
