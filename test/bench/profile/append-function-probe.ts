/**
 * Batch and single-event appends through two versions of `annals_append_tagged` in the same run:
 * schema A keeps the installed (latest) function, schema B gets the 0008 body back; a third store has
 * group commit on (the others off). Not part of CI.
 *
 *   DATABASE_URL=... tsx test/bench/profile/append-function-probe.ts [--rounds 6]
 */
import { parseArgs } from 'node:util';
import { PostgresEventStore } from '@annals/postgres';
import { sql } from 'kysely';
// Internal: the function's generator per migration version.
import { taggedAppendFunction } from '../../../packages/postgres/src/dcb/tagged-append-function.js';
import { uniqueName } from '../harness/unique.js';
import { benchStoreOptions, deposit, deposits } from '../workload/bench-events.js';

const { values } = parseArgs({ options: { rounds: { type: 'string' } } });
const ROUNDS = Number(values.rounds ?? 6);
const url = process.env.DATABASE_URL ?? '';
if (url === '') throw new Error('set DATABASE_URL');

async function open(schema: string, groupCommit = false): Promise<PostgresEventStore> {
  const store = await PostgresEventStore.create(
    { connectionString: url },
    { schema, ...benchStoreOptions(), groupCommit },
  );
  await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(store.kysely);
  await store.migrate();
  return store;
}

const latest = await open('probe_fn_latest');
const old = await open('probe_fn_0008');
const grouped = await open('probe_fn_grouped', true);
await sql`drop function ${sql.id('probe_fn_0008', 'annals_append_tagged')}`.execute(old.kysely);
await taggedAppendFunction('probe_fn_0008', '0008').execute(old.kysely);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const figures: Record<string, number[]> = {};
async function time(name: string, events: number, run: () => Promise<void>) {
  const started = performance.now();
  await run();
  (figures[name] ??= []).push(events / ((performance.now() - started) / 1000));
}
for (let r = 0; r < ROUNDS; r++) {
  for (const [label, store] of [
    ['latest', latest],
    ['0008', old],
    ['grouped', grouped],
  ] as const) {
    await time(`${label} batch`, 100 * 100, async () => {
      for (let i = 0; i < 100; i++) await store.append(uniqueName('b'), deposits(i * 100, 100));
    });
    await time(`${label} single`, 500, async () => {
      for (let i = 0; i < 500; i++) await store.append(uniqueName('s'), [deposit(i)]);
    });
  }
}
for (const [name, xs] of Object.entries(figures)) {
  process.stdout.write(`${name}: ${Math.round(median(xs)).toLocaleString('en-US')} ev/s\n`);
}
process.stdout.write(
  `latest / 0008: batch ${(median(figures['latest batch']!) / median(figures['0008 batch']!)).toFixed(2)}x, single ${(median(figures['latest single']!) / median(figures['0008 single']!)).toFixed(2)}x\n`,
);
process.stdout.write(
  `grouped / latest: batch ${(median(figures['grouped batch']!) / median(figures['latest batch']!)).toFixed(2)}x, single ${(median(figures['grouped single']!) / median(figures['latest single']!)).toFixed(2)}x\n`,
);
for (const store of [latest, old, grouped]) {
  await sql`drop schema ${sql.id(store.schema)} cascade`.execute(store.kysely);
  await store.close();
}
