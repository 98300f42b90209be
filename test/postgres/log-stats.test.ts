import { defineEvent, defineProjection, ProjectionRunner, type RecordedEvent } from '@annals/core';
import { toArray } from '@annals/testing';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { databaseUrl, useTestDatabase } from './support/test-database.js';

const db = useTestDatabase('log_stats', { pglite: false });

const Noted = defineEvent('Noted', { schema: z.object({ n: z.number() }) });

// Another session's open transaction holds the global log's horizon: an event committed after it
// began is stored but not yet returned by readAll. A projection still has it to apply, so the
// runner's lag counts it and waitUntilCaughtUp waits for it (the store's logStats, not readAll).
describe.skipIf(databaseUrl === undefined)('PostgresEventStore.logStats (server)', () => {
  it('a core ProjectionRunner counts an event behind another session’s open transaction and waits for it', async () => {
    // No read-your-writes wait: readAll returns at once what is below the horizon.
    const store = await db.open('server', { events: [Noted], horizonWaitMs: 0 });
    const holder = new pg.Client({ connectionString: databaseUrl });
    await holder.connect();
    try {
      await holder.query('begin');
      await holder.query('select txid_current()');
      await store.append('noted-1', [Noted.create({ n: 1 })]);
      expect(await toArray(store.readAll()), 'readAll while the horizon is held').toEqual([]);
      expect((await store.logStats().pending({ afterPosition: 0n })).count).toBe(1);

      const applied: RecordedEvent[] = [];
      const projection = defineProjection({
        name: 'noted',
        events: [Noted],
        handlers: { Noted: (event) => void applied.push(event) },
      });
      const runner = new ProjectionRunner({ store, projections: [projection] });
      await runner.start();
      try {
        await runner.refreshStatus();
        expect(runner.status('noted')?.lag.events, 'the hidden event is pending').toBe(1);
        const caughtUp = runner.waitUntilCaughtUp().then(() => applied.length);
        await holder.query('commit');
        expect(await caughtUp, 'events applied when waitUntilCaughtUp resolved').toBe(1);
        expect(applied[0]?.data).toEqual({ n: 1 });
      } finally {
        await runner.stop();
      }
    } finally {
      await holder.end();
    }
  });
});
