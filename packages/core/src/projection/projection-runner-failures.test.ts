import { describe, expect, it } from 'vitest';
import {
  allIds,
  balances,
  Deposited,
  deposit,
  fastFailure,
  newStore,
  silent,
} from '../../../../test/support/projection-runner-fixtures.js';
import { defineProjection } from './define-projection.js';
import { ProjectionFailed } from './projection-errors.js';
import { ProjectionRunner } from './projection-runner.js';

describe('ProjectionRunner failures (in memory)', () => {
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

  it('retries transient failures for as long as they last, without failing or dead-lettering', async () => {
    const store = newStore();
    for (let i = 0; i < 4; i++) await deposit(store, 'a', 1);
    const model = balances();
    let outage = 6; // more failures in a row than the policy's retries
    class ConnectionLost extends Error {}
    const projection = defineProjection({
      name: 'outage',
      events: [Deposited],
      failure: { retries: 1, backoff: { initialDelayMs: 1, maxDelayMs: 2 }, onExhausted: 'dead-letter' },
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
});
