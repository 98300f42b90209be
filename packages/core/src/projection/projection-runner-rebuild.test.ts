import { describe, expect, it } from 'vitest';
import {
  allIds,
  balances,
  Deposited,
  deposit,
  newStore,
  silent,
} from '../../../../test/support/projection-runner-fixtures.js';
import { defineProjection } from './define-projection.js';
import { ProjectionDefinitionInvalid } from './projection-errors.js';
import { ProjectionRunner } from './projection-runner.js';
import type { RebuildProgress } from './projection-status.js';

describe('ProjectionRunner rebuilds (in memory)', () => {
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
});
