/**
 * Informal measurement (not a test): catch-up throughput of a PostgresProjectionRunner into a
 * Postgres read model over 100,000 events, with per-event handlers (one upsert per event) and with a
 * batch handler (one upsert per batch), interleaved over a few rounds.
 * Run: DATABASE_URL=postgres://... npx tsx test/projections/measure-catch-up.ts
 * (EVENTS, BATCH_SIZE, ROUNDS; MODES=per-event,batch). The formal numbers come from the benchmark (test/bench).
 */
import { defineProjection, type Projection } from '@annals/core';
import {
  PostgresEventStore,
  type PostgresProjectionContext,
  PostgresProjectionRunner,
} from '@annals/postgres';
import { sql } from 'kysely';
import { Deposited } from './fixtures/events.js';

const url = process.env.DATABASE_URL;
if (url === undefined) throw new Error('DATABASE_URL is required');
const total = Number(process.env.EVENTS ?? 100_000);
const batchSize = Number(process.env.BATCH_SIZE ?? 500);
const rounds = Number(process.env.ROUNDS ?? 3);
const modes = (process.env.MODES ?? 'per-event,batch').split(',');
const schema = `proj_measure_${process.pid}`;

const store = await PostgresEventStore.create({ connectionString: url }, { schema, events: [Deposited] });
try {
  await store.migrate();
  const table = sql.id(schema, 'balances');
  await sql`create table ${table} (account_id text primary key, balance bigint not null, events integer not null)`.execute(
    store.kysely,
  );
  const seedStart = Date.now();
  for (let i = 0; i < total; i += 1000) {
    const account = `${(i / 1000) % 1000}`;
    await store.append(
      `account-${account}`,
      Array.from({ length: Math.min(1000, total - i) }, (_, n) =>
        Deposited.create({ accountId: `${(i + n) % 1000}`, amount: 1 }),
      ),
    );
  }
  await sql`analyze ${sql.id(schema, 'events')}`.execute(store.kysely);
  console.log(`seeded ${total} events in ${Date.now() - seedStart} ms`);

  const perEvent = (name: string) =>
    defineProjection({
      name,
      events: [Deposited],
      batchSize,
      handlers: {
        Deposited: async (e, { tx }: PostgresProjectionContext) => {
          await sql`insert into ${table} as b (account_id, balance, events) values (${e.data.accountId}, ${e.data.amount}, 1)
            on conflict (account_id) do update set balance = b.balance + excluded.balance, events = b.events + 1`.execute(
            tx,
          );
        },
      },
    });
  const batch = (name: string) =>
    defineProjection({
      name,
      events: [Deposited],
      batchSize,
      handleBatch: async (events, { tx }: PostgresProjectionContext) => {
        await sql`insert into ${table} as b (account_id, balance, events)
            select a, sum(n), count(*) from unnest(${events.map((e) => e.data.accountId)}::text[], ${events.map((e) => e.data.amount)}::bigint[]) as u(a, n)
            group by a
            on conflict (account_id) do update set balance = b.balance + excluded.balance, events = b.events + excluded.events`.execute(
          tx,
        );
      },
    });

  for (let round = 1; round <= rounds; round++) {
    for (const mode of modes) {
      await sql`truncate ${table}`.execute(store.kysely);
      const name = `balances-${mode}-${round}`;
      const projection: Projection<PostgresProjectionContext> =
        mode === 'batch' ? batch(name) : perEvent(name);
      const runner = new PostgresProjectionRunner({ store, projections: [projection] });
      const start = Date.now();
      await runner.start();
      await runner.waitUntilCaughtUp();
      const ms = Date.now() - start;
      await runner.stop();
      const { rows } = await sql<{ n: string }>`select sum(events)::text as n from ${table}`.execute(
        store.kysely,
      );
      if (Number(rows[0]!.n) !== total) throw new Error(`applied ${rows[0]!.n} events, expected ${total}`);
      console.log(
        `round ${round} ${mode}: caught up ${total} events (batches of ${batchSize}) in ${ms} ms: ${Math.round((total * 1000) / ms)} events/s`,
      );
    }
  }
} finally {
  await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(store.kysely);
  await store.close();
}
