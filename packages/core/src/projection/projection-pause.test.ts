import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { waitFor } from '../../../../test/support/wait-for.js';
import { defineEvent } from '../events/define-event.js';
import { InMemoryEventStore } from '../store/in-memory-event-store.js';
import { defineProjection } from './define-projection.js';
import { InMemoryCheckpointStore } from './in-memory-checkpoint-store.js';
import { InMemoryLeaseStore } from './in-memory-lease-store.js';
import { InMemoryProjectionControl } from './in-memory-projection-control.js';
import { ProjectionRunner } from './projection-runner.js';

const Deposited = defineEvent('Deposited', { schema: z.object({ amount: z.number() }) });
const silent = { warn: () => {}, error: () => {} };
/** Leases that expire only when a test means them to (see projection-runner.test.ts). */
const HONEST_TTL_MS = 3_000;

/** Two runners ("nodes") sharing the stores, each running `balances` and a `witness` of the same events. */
function twoNodes() {
  const store = new InMemoryEventStore({ events: [Deposited] });
  const applied = new Map<string, number>();
  const witnessed = new Set<string>();
  const balances = defineProjection({
    name: 'balances',
    events: [Deposited],
    batchSize: 3,
    handlers: { Deposited: (e) => void applied.set(e.id, (applied.get(e.id) ?? 0) + 1) },
    reset: () => applied.clear(),
  });
  const witness = defineProjection({
    name: 'witness',
    events: [Deposited],
    handlers: { Deposited: (e) => void witnessed.add(e.id) },
  });
  const leases = new InMemoryLeaseStore();
  const control = new InMemoryProjectionControl();
  const checkpoints = new InMemoryCheckpointStore({ leases });
  const options = {
    store,
    projections: [balances, witness],
    logger: silent,
    leases,
    checkpoints,
    control,
    leaseTtlMs: HONEST_TTL_MS,
  };
  const a = new ProjectionRunner({ ...options, owner: 'node-a' });
  const b = new ProjectionRunner({ ...options, owner: 'node-b' });
  const deposit = async (n: number) => {
    for (let i = 0; i < n; i++) await store.append(`account-${i % 4}`, [Deposited.create({ amount: 1 })]);
  };
  const ids = async () => {
    const all: string[] = [];
    for await (const e of store.readAll()) all.push(e.id);
    return all;
  };
  return { store, applied, witnessed, leases, control, checkpoints, a, b, deposit, ids };
}

describe('pausing a projection across runners', () => {
  it('a pause made on one runner stops both; resumed on the other, the read model ends exact', async () => {
    const nodes = twoNodes();
    const { a, b, applied } = nodes;
    await nodes.deposit(10);
    await a.start();
    await b.start();
    try {
      await a.waitUntilCaughtUp();
      await a.pause('balances');
      await waitFor(
        () => a.status('balances')?.state === 'paused' && b.status('balances')?.state === 'paused',
        'both runners to report balances paused',
      );
      expect(await nodes.leases.get('balances'), 'no runner holds a paused projection').toBeUndefined();
      const pausedAt = await nodes.checkpoints.load('balances');
      const before = new Set(applied.keys());

      await nodes.deposit(10);
      // The witness follows the same events on the same runners: once it has them, a runner that
      // ignored the pause would have had them too.
      await a.waitUntilCaughtUp('witness');
      await b.waitUntilCaughtUp('witness');
      expect(nodes.witnessed.size).toBe(20);
      expect(await nodes.checkpoints.load('balances'), 'the checkpoint of the paused projection').toBe(
        pausedAt,
      );
      expect(new Set(applied.keys()), 'nothing applied while paused').toEqual(before);
      expect(a.status('balances')?.state).toBe('paused');
      expect(b.status('balances')?.state).toBe('paused');

      await b.resume('balances');
      await a.waitUntilCaughtUp('balances');
      await b.waitUntilCaughtUp('balances');
      const ids = await nodes.ids();
      expect([...applied.keys()].sort(), 'every event applied').toEqual([...ids].sort());
      expect(
        [...applied.entries()].filter(([, times]) => times !== 1),
        'no event applied twice',
      ).toEqual([]);
      await waitFor(
        () =>
          [a, b]
            .map((r) => r.status('balances')?.state)
            .sort()
            .join() === 'running,standby',
        'one runner to run balances again, the other to stand by',
      );
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  it('a pause outlives the runner: a runner started on a paused projection reports paused and applies nothing', async () => {
    const nodes = twoNodes();
    await nodes.deposit(5);
    await nodes.control.pause('balances');
    await nodes.a.start();
    try {
      expect(nodes.a.status('balances')?.state, 'right after start()').toBe('paused');
      await nodes.a.waitUntilCaughtUp('witness');
      expect(nodes.applied.size).toBe(0);
      await expect(nodes.a.rebuild('balances')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await nodes.a.resume('balances');
      await nodes.a.waitUntilCaughtUp('balances');
      expect(nodes.applied.size).toBe(5);
    } finally {
      await nodes.a.stop();
    }
  });

  it('pause and resume name a projection of the runner; another name is refused with InvalidArgument', async () => {
    const nodes = twoNodes();
    await expect(nodes.a.pause('nope')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(nodes.a.resume('nope')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await nodes.control.listPaused()).toEqual([]);
  });
});
