/**
 * The read measurements of the benchmark (readStream of 10,000 events, readAll catch-up of 100,000,
 * plain and through the 3-step upcast chain) against their plain-SQL baselines, timed both by the
 * wall clock and by this process's CPU time. On a machine shared with other work the wall clock
 * varies a lot from one run to the next; the CPU time the Node process spends per event varies far
 * less, and it is where the store's own cost (parsing, decoding, freezing, garbage) shows.
 * Baseline and store take turns, round by round. Not part of CI.
 *
 *   DATABASE_URL=... tsx test/bench/profile/read-cpu.ts [--rounds 7]
 *
 * The data goes to the schema `annals_read_cpu`, dropped at the end.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { EventStore } from '@annals/core';
import { PostgresEventStore } from '@annals/postgres';
import pg from 'pg';
import {
  BASELINE_TABLE,
  CATCH_UP_PAGE,
  createBaselineTable,
  seedBaselineRows,
} from '../baselines/physical-baseline.js';
import type { SqlTarget } from '../harness/sql-target.js';
import { seedStreams } from '../suites/read-groups.js';
import { benchStoreOptions, oldTransfers } from '../workload/bench-events.js';

const SCHEMA = 'annals_read_cpu';
const { values } = parseArgs({ options: { rounds: { type: 'string' } } });
const ROUNDS = Number(values.rounds ?? 7);
const STREAM = 10_000;
const CATCH_UP = 100_000;

const url = process.env.DATABASE_URL;
if (url === undefined) throw new Error('set DATABASE_URL');
const admin = new pg.Client({ connectionString: url });
await admin.connect();
await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
const store: EventStore & { close(): Promise<void>; migrate(): Promise<unknown> } =
  await PostgresEventStore.create({ connectionString: url }, { schema: SCHEMA, ...benchStoreOptions() });
await store.migrate();
const target = { main: admin } as unknown as SqlTarget;
await createBaselineTable(target, SCHEMA);

interface Sample {
  readonly wallMs: number;
  readonly cpuMs: number;
  /** Garbage collections during the sample, and the time they took. */
  readonly gcs: number;
  readonly gcMs: number;
}

/** Garbage collections so far (every kind), as the runtime reports them. */
const gc = { count: 0, ms: 0 };
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gc.count++;
    gc.ms += entry.duration;
  }
}).observe({ entryTypes: ['gc'] });

async function sample(work: () => Promise<number>, expected: number): Promise<Sample> {
  const cpu = process.cpuUsage();
  const before = { ...gc };
  const started = performance.now();
  const n = await work();
  const wallMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  // GC entries arrive after the fact: let the observer catch up before reading the counters.
  await new Promise((resolve) => setTimeout(resolve, 20));
  if (n !== expected) throw new Error(`read ${n}, expected ${expected}`);
  return {
    wallMs,
    cpuMs: (used.user + used.system) / 1000,
    gcs: gc.count - before.count,
    gcMs: gc.ms - before.ms,
  };
}

async function count(events: AsyncIterable<unknown>): Promise<number> {
  let n = 0;
  for await (const _ of events) n++;
  return n;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Rounds of baseline and store in turn (after one warm-up each); prints medians and ratios. */
async function compare(
  label: string,
  units: number,
  baseline: () => Promise<number>,
  annals: () => Promise<number>,
): Promise<void> {
  await baseline();
  await annals();
  const b: Sample[] = [];
  const a: Sample[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    b.push(await sample(baseline, units));
    a.push(await sample(annals, units));
  }
  const wall = [median(b.map((s) => s.wallMs)), median(a.map((s) => s.wallMs))] as const;
  const cpu = [median(b.map((s) => s.cpuMs)), median(a.map((s) => s.cpuMs))] as const;
  const gcs = [median(b.map((s) => s.gcs)), median(a.map((s) => s.gcs))] as const;
  const gcMs = [median(b.map((s) => s.gcMs)), median(a.map((s) => s.gcMs))] as const;
  process.stdout.write(
    `${label}: wall ${wall[0].toFixed(0)} / ${wall[1].toFixed(0)} ms = ${(wall[0] / wall[1]).toFixed(2)}x; ` +
      `Node CPU ${cpu[0].toFixed(0)} / ${cpu[1].toFixed(0)} ms = ${(cpu[0] / cpu[1]).toFixed(2)}x ` +
      `(baseline / Annals, ${((cpu[1] * 1000) / units).toFixed(2)} µs of CPU per event); ` +
      `GC ${gcs[0]} / ${gcs[1]} collections, ${gcMs[0].toFixed(0)} / ${gcMs[1].toFixed(0)} ms\n`,
  );
}

try {
  const t = `${SCHEMA}.${BASELINE_TABLE}`;
  const [baselineStream] = (await seedBaselineRows(target, SCHEMA, 'baseline-read', STREAM, STREAM)) as [
    string,
  ];
  const { streams } = await seedStreams(store, {
    prefix: 'long',
    total: STREAM,
    perStream: STREAM,
    batchSize: 100,
  });
  const from = Number((await admin.query(`SELECT coalesce(max(position), 0) + 1 AS n FROM ${t}`)).rows[0].n);
  await seedBaselineRows(target, SCHEMA, 'baseline-log', CATCH_UP, 100);
  const log = await seedStreams(store, { prefix: 'log', total: CATCH_UP, perStream: 100, batchSize: 100 });
  const old = await seedStreams(store, {
    prefix: 'old',
    total: CATCH_UP,
    perStream: 100,
    batchSize: 100,
    make: oldTransfers,
    import: true,
  });
  await admin.query(`ANALYZE ${t}`);
  await admin.query(`ANALYZE ${SCHEMA}.events`);

  const selectStream = async () =>
    (
      await admin.query(
        `SELECT id, stream_id, revision, data FROM ${t} WHERE stream_id = $1 ORDER BY revision`,
        [baselineStream],
      )
    ).rows.length;
  const pagedCatchUp = async () => {
    let after = from - 1;
    let read = 0;
    while (read < CATCH_UP) {
      const { rows } = await admin.query<{ position: string }>(
        `SELECT position, id, stream_id, revision, data FROM ${t} WHERE position > $1 ORDER BY position LIMIT $2`,
        [after, Math.min(CATCH_UP_PAGE, CATCH_UP - read)],
      );
      if (rows.length === 0) break;
      read += rows.length;
      after = Number(rows[rows.length - 1]!.position);
    }
    return read;
  };
  await compare('readStream of 10,000 events', STREAM, selectStream, () =>
    count(store.readStream(streams[0]!)),
  );
  await compare('readAll catch-up of 100,000 events', CATCH_UP, pagedCatchUp, () =>
    count(store.readAll({ fromPosition: log.firstPosition, maxCount: CATCH_UP })),
  );
  await compare('readAll catch-up, 3-step upcast chain', CATCH_UP, pagedCatchUp, () =>
    count(store.readAll({ fromPosition: old.firstPosition, maxCount: CATCH_UP })),
  );
} finally {
  await store.close();
  await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await admin.end();
}
