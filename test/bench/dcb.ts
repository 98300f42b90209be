/**
 * `pnpm bench:dcb`: conditional appends (one query item with two tags, a condition on every append)
 * against unconditional aggregate appends (expected revision, no tags), measured in the same run on
 * the same PostgreSQL server, in alternating rounds, sequential and with concurrent writers.
 * `--large-log` first fills the log with 1,000,000 tagged events. Needs DATABASE_URL.
 *
 * `--hot-tag` makes every condition lock one shared tag (the caveat docs/dcb.md measures).
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test pnpm bench:dcb [--large-log] [--hot-tag] [--rounds 5]
 */
import { parseArgs } from 'node:util';
import { defineEvent } from '@annals/core';
import { PostgresEventStore } from '@annals/postgres';
import { z } from 'zod';
import { prefill } from './dcb/prefill.js';

const { values } = parseArgs({
  options: {
    'large-log': { type: 'boolean', default: false },
    rounds: { type: 'string', default: '5' },
    appends: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '8' },
    'hot-tag': { type: 'boolean', default: false },
  },
});
const url = process.env.DATABASE_URL;
if (url === undefined) throw new Error('bench:dcb needs DATABASE_URL (a PostgreSQL server).');
const rounds = Number(values.rounds);
const appends = Number(values.appends);
const concurrency = Number(values.concurrency);
const LOG = values['large-log'] ? 1_000_000 : 0;
/** `--hot-tag`: every condition's item starts with the same tag, which it locks: one global lock. */
const HOT = values['hot-tag'];

const Deposited = defineEvent('Deposited', {
  schema: z.object({ accountId: z.string(), amount: z.number() }),
});
const Reserved = defineEvent('Reserved', {
  schema: z.object({ courseId: z.string(), studentId: z.string() }),
  tags: (d) => [`course:${d.courseId}`, `student:${d.studentId}`, ...(HOT ? ['hot'] : [])],
});

const schema = `bench_dcb_${process.pid}`;
const store = await PostgresEventStore.create(
  { connectionString: url, pool: { max: concurrency + 2 } },
  { events: [Deposited, Reserved], schema },
);
try {
  await store.migrate();
  if (LOG > 0) {
    const started = performance.now();
    await prefill(store.kysely, schema, LOG);
    console.log(
      `log filled with ${LOG} tagged events in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
  }
  let run = 0;
  /** Aggregate appends: `appends` single-event appends, each to its own stream at the next revision. */
  const aggregate = async (workers: number) => {
    const id = ++run;
    const per = Math.ceil(appends / workers);
    await Promise.all(
      Array.from({ length: workers }, async (_, w) => {
        let revision: bigint | 'no_stream' = 'no_stream';
        for (let i = 0; i < per; i++) {
          const result = await store.append(
            `account-${id}-${w}`,
            [Deposited.create({ accountId: `${w}`, amount: i })],
            {
              expectedRevision: revision,
            },
          );
          revision = result.nextExpectedRevision;
        }
      }),
    );
    return per * workers;
  };
  /** Conditional appends: each guarded by one query item with two tags, after the last known position. */
  const conditional = async (workers: number) => {
    const id = ++run;
    const per = Math.ceil(appends / workers);
    await Promise.all(
      Array.from({ length: workers }, async (_, w) => {
        let after: bigint | undefined;
        for (let i = 0; i < per; i++) {
          const courseId = `${id}-${w}`;
          const studentId = `${id}-${w}`;
          const result = await store.append(
            `reservation-${id}-${w}`,
            [Reserved.create({ courseId, studentId })],
            {
              condition: process.env.DCB_NO_CONDITION
                ? undefined
                : {
                    failIfEventsMatch: {
                      items: [{ types: ['Reserved'], tags: [`course:${courseId}`, `student:${studentId}`] }],
                    },
                    ...(after === undefined ? {} : { after }),
                  },
            },
          );
          after = result.lastPosition;
        }
      }),
    );
    return per * workers;
  };
  const measure = async (fn: (w: number) => Promise<number>, workers: number) => {
    const started = performance.now();
    const count = await fn(workers);
    return count / ((performance.now() - started) / 1000);
  };
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  for (const workers of [1, concurrency]) {
    await measure(aggregate, workers); // warm-up
    await measure(conditional, workers);
    const a: number[] = [];
    const c: number[] = [];
    for (let r = 0; r < rounds; r++) {
      // Alternating, and the order flips each round, so drift of the machine hits both alike.
      if (r % 2 === 0) {
        a.push(await measure(aggregate, workers));
        c.push(await measure(conditional, workers));
      } else {
        c.push(await measure(conditional, workers));
        a.push(await measure(aggregate, workers));
      }
    }
    const ma = median(a);
    const mc = median(c);
    // Each round's pair ran back to back: the median of their ratios resists load that comes and goes.
    const ratios = a.map((x, i) => c[i]! / x);
    console.log(
      `log ${LOG} events, ${workers} writer(s): aggregate ${ma.toFixed(0)}/s, conditional ${mc.toFixed(0)}/s, ratio of medians ${(mc / ma).toFixed(2)}x, median of round ratios ${median(ratios).toFixed(2)}x  (rounds: aggregate ${a.map((x) => x.toFixed(0)).join(' ')}; conditional ${c.map((x) => x.toFixed(0)).join(' ')})`,
    );
  }
} finally {
  await store.kysely
    .withoutPlugins()
    .schema.dropSchema(schema)
    .ifExists()
    .cascade()
    .execute()
    .catch(() => {});
  await store.close();
}
