/**
 * How the figures of the benchmark hold up as the log grows: sequential, concurrent and batch appends,
 * readStream, readAll catch-up and projection catch-ups (per-event handlers and a batch handler, from
 * a checkpoint in the middle of the log) on an empty log, then again after the log holds `--events`
 * events (default 1,000,000).
 * Not part of CI nor of `pnpm bench`: a probe to run by hand on a server.
 *
 *   DATABASE_URL=... tsx test/bench/profile/growth-probe.ts [--events 1000000] [--rounds 5]
 *
 * Besides the throughput it prints what explains a difference: the WAL each batch writes (full-page
 * images grow with the number of index pages an append touches), the buffers each read touches
 * (EXPLAIN ANALYZE, BUFFERS), and whether autovacuum was working on the tables during a measurement.
 * The data goes to the schema `annals_growth_probe`, dropped at the end.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { defineProjection, type EventStore } from '@annals/core';
import { PostgresEventStore, PostgresProjectionRunner } from '@annals/postgres';
import { sql, type Transaction } from 'kysely';
import pg from 'pg';
import { uniqueName } from '../harness/unique.js';
import { seedStreams } from '../suites/read-groups.js';
import { BenchDeposited, benchStoreOptions, deposit, deposits } from '../workload/bench-events.js';

const SCHEMA = 'annals_growth_probe';
const { values } = parseArgs({
  options: { events: { type: 'string' }, rounds: { type: 'string' }, 'grow-batch': { type: 'string' } },
});
const GROWN = Number(values.events ?? 1_000_000);
const ROUNDS = Number(values.rounds ?? 5);
const BATCHES = 100;
const BATCH = 100;
const STREAM = 10_000;
const CATCH_UP = 100_000;
const SEQUENTIAL = 300;
const WRITERS = 16;
const PER_WRITER = 25;
/** Events the per-event projection catches up on (the last of the readAll's events). */
const PER_EVENT = 5_000;
const READ_MODEL = `${SCHEMA}.growth_balances`;

/** The last read statement the store sent of each kind, as it sent it, to EXPLAIN it. */
const sent: {
  stream?: { text: string; values: unknown[] };
  all?: { text: string; values: unknown[] };
  append?: { text: string; values: unknown[] };
} = {};
const originalQuery = pg.Client.prototype.query;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  const config = args[0] as string | { text?: string; values?: unknown[] };
  const text = typeof config === 'string' ? config : config?.text;
  const values = (typeof config === 'string' ? args[1] : config?.values) as unknown[] | undefined;
  if (text?.includes('annals_append') && values !== undefined && !text.includes('EXPLAIN')) {
    sent.append = { text, values };
  } else if (
    text !== undefined &&
    values !== undefined &&
    text.includes('"events"') &&
    !text.includes('EXPLAIN')
  ) {
    if (text.includes('"revision" >=')) sent.stream = { text, values };
    else if (text.includes('"position" >=')) sent.all = { text, values };
  }
  return (originalQuery as (...a: unknown[]) => unknown).apply(this, args);
} as typeof originalQuery;

const url = process.env.DATABASE_URL;
if (url === undefined) throw new Error('set DATABASE_URL');
const admin = new pg.Client({ connectionString: url });
await admin.connect();
await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
const store = await PostgresEventStore.create(
  { connectionString: url },
  { schema: SCHEMA, ...benchStoreOptions() },
);
await store.migrate();

async function scalar(text: string, params: unknown[] = []): Promise<string> {
  const { rows } = await admin.query(text, params);
  return String(Object.values(rows[0] as object)[0]);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function count(events: AsyncIterable<unknown>): Promise<number> {
  let n = 0;
  for await (const _ of events) n++;
  return n;
}

/** Autovacuum workers busy on this schema's tables right now. */
async function autovacuumBusy(): Promise<string> {
  const { rows } = await admin.query<{ query: string }>(
    `SELECT query FROM pg_stat_activity WHERE backend_type = 'autovacuum worker' AND query LIKE $1`,
    [`%${SCHEMA}%`],
  );
  return rows.length === 0 ? 'none' : rows.map((r) => r.query).join('; ');
}

interface Figures {
  sequential: number;
  concurrent: number;
  perEvent: number;
  batchProjection: number;
  batch: number;
  walPerBatch: number;
  stream: number;
  catchUp: number;
}

async function measure(s: EventStore, label: string): Promise<Figures> {
  const vacuumBefore = await autovacuumBusy();
  // Single-event appends to new streams: one after another, then from 16 concurrent writers.
  const sequentialRates: number[] = [];
  const concurrentRates: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    let started = performance.now();
    for (let i = 0; i < SEQUENTIAL; i++) {
      await s.append(uniqueName('one'), [deposit(i)], { expectedRevision: 'no_stream' });
    }
    sequentialRates.push(SEQUENTIAL / ((performance.now() - started) / 1000));
    started = performance.now();
    await Promise.all(
      Array.from({ length: WRITERS }, async (_, w) => {
        for (let i = 0; i < PER_WRITER; i++) {
          await s.append(uniqueName('many'), [deposit(w * PER_WRITER + i)], {
            expectedRevision: 'no_stream',
          });
        }
      }),
    );
    concurrentRates.push((WRITERS * PER_WRITER) / ((performance.now() - started) / 1000));
  }
  // Batch appends: 100 batches of 100 events, each to a new stream (as the benchmark's).
  const batchRates: number[] = [];
  const wal: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const lsn = await scalar('SELECT pg_current_wal_lsn()');
    const started = performance.now();
    for (let i = 0; i < BATCHES; i++) {
      await s.append(uniqueName('batch'), deposits(i * BATCH, BATCH), { expectedRevision: 'no_stream' });
    }
    batchRates.push((BATCHES * BATCH) / ((performance.now() - started) / 1000));
    wal.push(Number(await scalar('SELECT pg_current_wal_lsn() - $1::pg_lsn', [lsn])) / BATCHES);
  }
  // readStream of one new 10,000-event stream.
  const { streams } = await seedStreams(s, {
    prefix: 'long',
    total: STREAM,
    perStream: STREAM,
    batchSize: BATCH,
  });
  const streamRates: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const started = performance.now();
    await count(s.readStream(streams[0]!));
    streamRates.push(STREAM / ((performance.now() - started) / 1000));
  }
  // readAll catch-up of 100,000 new events in streams of 100.
  const { firstPosition } = await seedStreams(s, {
    prefix: 'log',
    total: CATCH_UP,
    perStream: BATCH,
    batchSize: BATCH,
  });
  const catchUpRates: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const started = performance.now();
    await count(s.readAll({ fromPosition: firstPosition, maxCount: CATCH_UP }));
    catchUpRates.push(CATCH_UP / ((performance.now() - started) / 1000));
  }
  const perEventRates: number[] = [];
  const batchProjectionRates: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    perEventRates.push(await projectFrom(s, firstPosition, CATCH_UP - PER_EVENT, false));
    batchProjectionRates.push(await projectFrom(s, firstPosition, 0, true));
  }
  const figures = {
    sequential: median(sequentialRates),
    concurrent: median(concurrentRates),
    perEvent: median(perEventRates),
    batchProjection: median(batchProjectionRates),
    batch: median(batchRates),
    walPerBatch: median(wal),
    stream: median(streamRates),
    catchUp: median(catchUpRates),
  };
  const events = await scalar(`SELECT count(*) FROM ${SCHEMA}.events`);
  process.stdout.write(
    `${label} (${Number(events).toLocaleString('en-US')} events): sequential appends ${Math.round(figures.sequential).toLocaleString('en-US')} ev/s, ` +
      `16 concurrent ${Math.round(figures.concurrent).toLocaleString('en-US')} ev/s, ` +
      `projection per-event ${Math.round(figures.perEvent).toLocaleString('en-US')} ev/s, batch handler ${Math.round(figures.batchProjection).toLocaleString('en-US')} ev/s, batch appends ${Math.round(figures.batch).toLocaleString('en-US')} ev/s ` +
      `(${Math.round(figures.walPerBatch).toLocaleString('en-US')} WAL bytes per batch), ` +
      `readStream ${Math.round(figures.stream).toLocaleString('en-US')} ev/s, readAll ${Math.round(figures.catchUp).toLocaleString('en-US')} ev/s; ` +
      `autovacuum before: ${vacuumBefore}, after: ${await autovacuumBusy()}\n`,
  );
  await explainRead(streams[0]!, firstPosition);
  return figures;
}

type BalanceTx = Transaction<{ growth_balances: { account_id: string; balance: number } }>;

/**
 * Events/s of a projection catching up on the events after the `skip`th of the readAll's events (its
 * checkpoint set there, in the middle of the log), with per-event upserts or one upsert per batch.
 */
async function projectFrom(s: EventStore, first: bigint, skip: number, batch: boolean): Promise<number> {
  const name = uniqueName('growth-projection');
  await admin.query(`DROP TABLE IF EXISTS ${READ_MODEL}`);
  await admin.query(`CREATE TABLE ${READ_MODEL} (account_id text PRIMARY KEY, balance bigint NOT NULL)`);
  const from = await scalar(
    `SELECT position FROM ${SCHEMA}.events WHERE position >= $1 ORDER BY position OFFSET $2 LIMIT 1`,
    [first.toString(), skip],
  );
  await admin.query(`INSERT INTO ${SCHEMA}.checkpoints (name, position) VALUES ($1, $2::bigint - 1)`, [
    name,
    from,
  ]);
  const upsert = (tx: BalanceTx, rows: { account_id: string; balance: number }[]) =>
    tx
      .withSchema(SCHEMA)
      .insertInto('growth_balances')
      .values(rows)
      .onConflict((oc) =>
        oc.column('account_id').doUpdateSet({ balance: sql`growth_balances.balance + excluded.balance` }),
      )
      .execute();
  const projection = batch
    ? defineProjection({
        name,
        events: [BenchDeposited],
        handleBatch: async (events, { tx }: { tx: BalanceTx }) => {
          const sums = new Map<string, number>();
          for (const { data } of events)
            sums.set(data.accountId, (sums.get(data.accountId) ?? 0) + data.amount);
          await upsert(
            tx,
            [...sums].map(([account_id, balance]) => ({ account_id, balance })),
          );
        },
      })
    : defineProjection({
        name,
        events: [BenchDeposited],
        handlers: {
          BenchDeposited: async (event, { tx }: { tx: BalanceTx }) => {
            await upsert(tx, [{ account_id: event.data.accountId, balance: event.data.amount }]);
          },
        },
      });
  const runner = new PostgresProjectionRunner({ store: s as PostgresEventStore, projections: [projection] });
  const started = performance.now();
  await runner.start();
  await runner.waitUntilCaughtUp();
  const seconds = (performance.now() - started) / 1000;
  await runner.stop();
  const events = Number(await scalar(`SELECT count(*) FROM ${SCHEMA}.events WHERE position >= $1`, [from]));
  return events / seconds;
}

/** The plans and buffers of a page of each read (in the middle of it), as the store sent it. */
async function explainRead(_streamId: string, from: bigint): Promise<void> {
  const pages = [
    // The cursor, wherever it goes (the stream's page names it twice), in the middle of the read.
    [
      'readStream page',
      sent.stream,
      (values: unknown[]) => values.map((v) => (v === values[1] ? '5000' : v)),
    ],
    [
      'readAll page',
      sent.all,
      (values: unknown[]) => values.map((v) => (v === values[0] ? String(from + 50_000n) : v)),
    ],
  ] as const;
  // A batch append to a new stream, in a rolled-back transaction: the buffers and WAL it costs.
  if (sent.append !== undefined) {
    const values = sent.append.values.map((v, k) =>
      k === 0 ? uniqueName('explain') : k === 4 ? (v as string[]).map(() => randomUUID()) : v,
    );
    await admin.query('BEGIN');
    const plan = await admin.query(`EXPLAIN (ANALYZE, BUFFERS, WAL) ${sent.append.text}`, values);
    await admin.query('ROLLBACK');
    process.stdout.write(`  batch append:\n`);
    for (const row of plan.rows) process.stdout.write(`    ${String(row['QUERY PLAN'])}\n`);
  }
  for (const [name, statement, at] of pages) {
    if (statement === undefined) continue;
    const plan = await admin.query(`EXPLAIN (ANALYZE, BUFFERS) ${statement.text}`, at(statement.values));
    process.stdout.write(`  ${name}:\n`);
    for (const row of plan.rows) process.stdout.write(`    ${String(row['QUERY PLAN'])}\n`);
  }
}

/** The process's first appends and reads (JIT, pool connections, plan caches), not measured. */
async function warmUp(s: EventStore): Promise<void> {
  for (let i = 0; i < SEQUENTIAL; i++) await s.append(uniqueName('warm'), [deposit(i)]);
  for (let i = 0; i < 20; i++) await s.append(uniqueName('warm'), deposits(i * BATCH, BATCH));
  await count(s.readAll({ maxCount: 5_000 }));
}

try {
  await warmUp(store);
  const empty = await measure(store, 'empty log');
  const have = Number(await scalar(`SELECT count(*) FROM ${SCHEMA}.events`));
  const growBatch = Number(values['grow-batch'] ?? 1_000);
  const started = performance.now();
  await seedStreams(store, {
    prefix: 'grow',
    total: Math.max(0, GROWN - have),
    perStream: growBatch,
    batchSize: growBatch,
  });
  process.stdout.write(
    `grew the log to ${GROWN.toLocaleString('en-US')} events in ${((performance.now() - started) / 1000).toFixed(0)} s\n`,
  );
  const sizes = await admin.query(
    `SELECT c.relname, pg_size_pretty(pg_relation_size(c.oid)) AS size FROM pg_class c
     JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind IN ('r', 'i')
     AND pg_relation_size(c.oid) > 1000000 ORDER BY pg_relation_size(c.oid) DESC`,
    [SCHEMA],
  );
  process.stdout.write(`  ${sizes.rows.map((r) => `${r.relname} ${r.size}`).join(', ')}\n`);
  process.stdout.write(
    `  shared_buffers ${await scalar('SHOW shared_buffers')}, checkpoint_timeout ${await scalar('SHOW checkpoint_timeout')}, max_wal_size ${await scalar('SHOW max_wal_size')}\n`,
  );
  const grown = await measure(store, 'grown log');
  process.stdout.write(
    `grown / empty: sequential appends ${(grown.sequential / empty.sequential).toFixed(2)}x, ` +
      `16 concurrent ${(grown.concurrent / empty.concurrent).toFixed(2)}x, ` +
      `projection per-event ${(grown.perEvent / empty.perEvent).toFixed(2)}x, batch handler ${(grown.batchProjection / empty.batchProjection).toFixed(2)}x, ` +
      `batch appends ${(grown.batch / empty.batch).toFixed(2)}x, readStream ${(grown.stream / empty.stream).toFixed(2)}x, readAll ${(grown.catchUp / empty.catchUp).toFixed(2)}x\n`,
  );
} finally {
  await store.close();
  await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await admin.end();
}
