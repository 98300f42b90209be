import { defineEvent, defineProjection } from '@annals/core';
import { type PostgresProjectionContext, PostgresProjectionRunner } from '@annals/postgres';
import { sql } from 'kysely';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { databaseUrl, useTestDatabase } from '../postgres/support/test-database.js';

const db = useTestDatabase('caughtup');
const onServer = databaseUrl === undefined ? describe.skip : describe;

const Counted = defineEvent('Counted', { schema: z.object({ n: z.number() }) });

onServer('waitUntilCaughtUp (server)', () => {
  it('waits for every event committed before the call, also while another session holds the read horizon back', async () => {
    const store = await db.open('server', { events: [Counted] });
    const table = sql.id(store.schema, 'counted');
    await sql`create table ${table} (n int primary key)`.execute(store.kysely);
    const projection = defineProjection({
      name: 'counted',
      events: [Counted],
      handlers: {
        Counted: async (e, { tx }: PostgresProjectionContext) => {
          await sql`insert into ${table} (n) values (${e.data.n})`.execute(tx);
        },
      },
    });
    const runner = new PostgresProjectionRunner({ store, projections: [projection] });
    await runner.start();
    // Another application's transaction, open before the appends: readers of the global log hold
    // back the events committed after it started until it ends.
    const other = new pg.Client({ connectionString: databaseUrl });
    other.on('error', () => {});
    await other.connect();
    try {
      await other.query('begin');
      await other.query('select pg_current_xact_id()');
      for (let n = 0; n < 3; n++) await store.append(`counted-${n}`, [Counted.create({ n })]);
      const waiting = runner.waitUntilCaughtUp('counted');
      // Committed events are stored when waitUntilCaughtUp is called: it must not resolve before the
      // runner has applied them, which it can only do once the other transaction ends. Giving it a
      // second first lets a wrong early resolve show; a correct one cannot happen before the commit.
      await Promise.race([waiting, new Promise((resolve) => setTimeout(resolve, 1000))]);
      await other.query('commit');
      await waiting;
      const { rows } = await sql<{ n: number }>`select n from ${table} order by n`.execute(store.kysely);
      expect(
        rows.map((r) => r.n),
        'waitUntilCaughtUp resolved before the runner applied the events committed before the call',
      ).toEqual([0, 1, 2]);
    } finally {
      await other.end().catch(() => {});
      await runner.stop();
    }
  });
});
