import { PostgresEventStore } from '@annals/postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Deposited } from './fixtures/events.js';
import { RunnerProcess, TestDatabase, waitFor } from './support/runner-processes.js';

const url = process.env.DATABASE_URL;

describe.skipIf(!url)(
  'a projection runner killed with SIGKILL mid-batch (real server, child processes)',
  () => {
    const schema = `proj_sigkill_${process.pid}`;
    let db: TestDatabase;
    let store: PostgresEventStore;

    beforeAll(async () => {
      db = new TestDatabase(url!, schema);
      await db.open();
      store = await PostgresEventStore.create({ connectionString: url! }, { schema, events: [Deposited] });
      await store.migrate();
      await db.createReadModel();
    });
    afterAll(async () => {
      await store?.close();
      await db?.close();
    });

    it('leaves the read model matching its checkpoint, and after a restart every event is applied exactly once', async () => {
      for (let i = 0; i < 8; i++) {
        await store.append(
          `account-${i}`,
          Array.from({ length: 40 }, (_, n) => Deposited.create({ accountId: `${i}`, amount: n })),
        );
      }
      const env = {
        DATABASE_URL: url!,
        SCHEMA: schema,
        PROJECTIONS: 'counter',
        BATCH_SIZE: '40',
        HANDLER_DELAY_MS: '3',
        MID_BATCH_AT: '20',
        LEASE_TTL_MS: '1000',
      };
      const first = new RunnerProcess('runner-1', env);
      // Kill it in the middle of its third batch: two batches are committed, the third is half applied.
      await waitFor(() => first.midBatch.length >= 3, 'the third batch to be half applied');
      first.kill('SIGKILL');
      expect(await first.exited).toBeNull(); // killed by the signal, no graceful stop

      const checkpoint = (await db.checkpoint('counter')) ?? 0n;
      expect(checkpoint).toBeGreaterThan(0n);
      expect(checkpoint).toBeLessThan(first.midBatch[2]!.position); // the half-applied batch did not commit
      expect(await db.applied('counter')).toEqual({ events: await db.deposits(checkpoint), maxTimes: 1 });
      expect(await db.appliedAbove('counter', checkpoint)).toBe(0);

      await store.append('account-late', [Deposited.create({ accountId: 'late', amount: 1 })]);
      const second = new RunnerProcess('runner-2', { ...env, HANDLER_DELAY_MS: '0', MID_BATCH_AT: '0' });
      try {
        const total = await db.deposits();
        await waitFor(
          async () => (await db.applied('counter')).events === total,
          'the restarted runner to catch up',
        );
        expect(await db.applied('counter')).toEqual({ events: total, maxTimes: 1 });
        expect(total).toBe(321);
      } finally {
        second.kill('SIGTERM');
        await second.exited;
      }
    });
  },
);
