/**
 * Informal measurement (not a test): catch-up throughput of a PostgresProjectionRunner into a
 * Postgres read model over 100,000 events. Run: DATABASE_URL=postgres://... npx tsx test/projections/measure-catch-up.ts
 * The formal numbers come from the benchmark (test/bench).
 */
import { defineProjection } from '@annals/core';
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
const schema = `proj_measure_${process.pid}`;

const store = await PostgresEventStore.create({ connectionString: url }, { schema, events: [Deposited] });
try {
  await store.migrate();
  await sql`create table ${sql.id(schema, 'balances')} (account_id text primary key, balance bigint not null, events integer not null)`.execute(
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
  console.log(`seeded ${total} events in ${Date.now() - seedStart} ms`);

  const balances = defineProjection({
    name: 'balances',
    events: [Deposited],
    batchSize,
    handlers: {
      Deposited: async (e, { tx }: PostgresProjectionContext) => {
        await sql`insert into ${sql.id(schema, 'balances')} as b (account_id, balance, events) values (${e.data.accountId}, ${e.data.amount}, 1)
          on conflict (account_id) do update set balance = b.balance + excluded.balance, events = b.events + 1`.execute(
          tx,
        );
      },
    },
  });
  const runner = new PostgresProjectionRunner({ store, projections: [balances] });
  const start = Date.now();
  await runner.start();
  await runner.waitUntilCaughtUp();
  const ms = Date.now() - start;
  await runner.stop();
  const { rows } = await sql<{
    n: string;
  }>`select sum(events)::text as n from ${sql.id(schema, 'balances')}`.execute(store.kysely);
  console.log(
    `caught up ${rows[0]!.n} events (one upsert each, batches of ${batchSize}) in ${ms} ms: ${Math.round((total * 1000) / ms)} events/s`,
  );
} finally {
  await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(store.kysely);
  await store.close();
}
