import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { AnnalsError } from '../errors/annals-error.js';
import { defineEvent } from '../events/define-event.js';
import { InMemoryEventStore } from '../store/in-memory-event-store.js';
import { defineProjection } from './define-projection.js';
import { InMemoryCheckpointStore } from './in-memory-checkpoint-store.js';
import { InMemoryLeaseStore } from './in-memory-lease-store.js';
import type { LeaseStore } from './lease-store.js';
import { ProjectionRunner } from './projection-runner.js';

const Noted = defineEvent('Noted', { schema: z.object({ n: z.number() }) });
const silent = { warn: () => {}, error: () => {} };
/** What an adapter throws while its database cannot be reached (code STORE_UNAVAILABLE). */
const unavailable = () =>
  new AnnalsError('STORE_UNAVAILABLE', 'The database connection failed during a test.');

async function storeWith(count: number) {
  const store = new InMemoryEventStore({ events: [Noted] });
  for (let n = 0; n < count; n++) await store.append('notes', [Noted.create({ n })]);
  return store;
}

function counting() {
  const seen: number[] = [];
  const projection = defineProjection({
    name: 'notes',
    events: [Noted],
    failure: { retries: 0 },
    handlers: { Noted: (e) => void seen.push(e.data.n) },
  });
  return { seen, projection };
}

describe('projections ride out an unavailable store', () => {
  it('a projection with retries: 0 never fails because the store was unavailable, however often', async () => {
    const store = await storeWith(5);
    const { seen, projection } = counting();
    let outages = 7;
    const runner = new ProjectionRunner({
      store,
      projections: [projection],
      logger: silent,
      checkpoints: new InMemoryCheckpointStore(),
      // Without isTransient: a StoreUnavailable is transient whatever the option says.
      transaction: async (work) => {
        if (outages-- > 0) throw unavailable();
        return work(undefined);
      },
    });
    await runner.start();
    try {
      await runner.waitUntilCaughtUp('notes');
      const status = runner.status('notes')!;
      expect(status.state, `state after 7 outages: ${status.lastError?.message}`).toBe('running');
      expect(seen).toEqual([0, 1, 2, 3, 4]);
    } finally {
      await runner.stop();
    }
  });

  it('a batch whose commit went through although the store reported it unavailable is not applied again', async () => {
    const store = await storeWith(4);
    const { seen, projection } = counting();
    let ambiguous = 2;
    const runner = new ProjectionRunner({
      store,
      projections: [projection],
      logger: silent,
      batchSize: 2,
      checkpoints: new InMemoryCheckpointStore(),
      // The work (handlers and checkpoint) is done, then the connection dies at the commit.
      transaction: async (work) => {
        const result = await work(undefined);
        if (ambiguous-- > 0) throw unavailable();
        return result;
      },
    });
    await runner.start();
    try {
      await runner.waitUntilCaughtUp('notes');
      expect(seen, 'each event applied once').toEqual([0, 1, 2, 3]);
      expect(runner.status('notes')!.state).toBe('running');
    } finally {
      await runner.stop();
    }
  });

  it('claims its lease again soon after a claim failed because the store was unavailable, not a third of the lease later', async () => {
    const store = await storeWith(3);
    const { seen, projection } = counting();
    const inner = new InMemoryLeaseStore();
    let outages = 3;
    const leases: LeaseStore = {
      acquire: async (key, owner, ttlMs) => {
        if (outages-- > 0) throw unavailable();
        return inner.acquire(key, owner, ttlMs);
      },
      renew: (key, owner, ttlMs) => inner.renew(key, owner, ttlMs),
      release: (key, owner) => inner.release(key, owner),
      list: (prefix) => inner.list(prefix),
      get: (key) => inner.get(key),
    };
    // A lease of ten minutes: the standby poll (a third of it) would outlast the test.
    const runner = new ProjectionRunner({
      store,
      projections: [projection],
      logger: silent,
      leases,
      leaseTtlMs: 600_000,
    });
    await runner.start();
    try {
      await runner.waitUntilCaughtUp('notes');
      expect(seen).toEqual([0, 1, 2]);
      expect(runner.status('notes')!.state).toBe('running');
    } finally {
      await runner.stop();
    }
  }, 20_000);

  it('takes its lease back at once when it expired during an outage and is still free, not a third of the lease later', async () => {
    const store = await storeWith(2);
    const { projection } = counting();
    let now = Date.now();
    const leases = new InMemoryLeaseStore({ now: () => now });
    const checkpoints = new InMemoryCheckpointStore({ leases });
    // A lease of ten minutes: the standby poll (a third of it) would outlast the test.
    const runner = new ProjectionRunner({
      store,
      projections: [projection],
      logger: silent,
      leases,
      checkpoints,
      leaseTtlMs: 600_000,
    });
    await runner.start();
    try {
      await runner.waitUntilCaughtUp('notes');
      // An outage outlasted the lease: no heartbeat renewed it, nobody else took it. The next commit
      // finds it expired (LeaseLost); the runner claims the free lease again and commits.
      now += 700_000;
      const { lastPosition } = await store.append('notes', [Noted.create({ n: 2 })]);
      // Bounded only to catch a hang: the standby poll would take 200 s.
      await vi.waitFor(
        async () =>
          expect(await checkpoints.load('notes'), 'the checkpoint after the new event').toBe(lastPosition),
        { timeout: 50_000, interval: 20 },
      );
      expect((await leases.get('notes'))?.owner, 'the runner holds the lease again').toBeDefined();
      expect(runner.status('notes')!.state).toBe('running');
    } finally {
      await runner.stop();
    }
  }, 60_000);
});
