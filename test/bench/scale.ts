/**
 * `pnpm bench:scale`: appends/s and catch-up events/s of tenants on one PostgreSQL cluster and on
 * three, in the same run, with their ratios. It creates three clusters of its own with
 * pg_createcluster (ports 5443-5445, or `SCALE_PORT_BASE` + 3...; run as root on a Debian/Ubuntu
 * PostgreSQL install; fsync on, as in production) and drops them at the end. `--quick` shortens each phase.
 *
 * The same six tenants and the same concurrent writers run twice: all tenants on db1, then two per
 * cluster. Every process here shares the machine's cores, so the ratio shows what a second and third
 * server buy on this machine, not on three machines (see docs/scaling.md).
 */
import os from 'node:os';
import { uuidv7 } from '@annals/core';
import { type PostgresEventStore, TenantRouter } from '@annals/postgres';
import { ScaleCluster } from '../scale/clusters.js';
import { openDatabases, Recorded } from '../scale/fixtures/scale-app.js';

const quick = process.argv.includes('--quick');
const APPEND_MS = quick ? 2_000 : 8_000;
const WRITERS = 24;
const TENANTS = ['b1', 'b2', 'b3', 'b4', 'b5', 'b6'];

interface Figures {
  readonly appendsPerSecond: number;
  readonly catchUpEventsPerSecond: number;
  readonly events: number;
}

async function measure(router: TenantRouter): Promise<Figures> {
  const until = Date.now() + APPEND_MS;
  let appended = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: WRITERS }, async (_, w) => {
      const tenant = TENANTS[w % TENANTS.length]!;
      const store = await router.tenant(tenant);
      for (let n = 0; Date.now() < until; n++) {
        await store.append(`writer${w}-${n % 10}`, [
          Recorded.create({ node: `w${w}`, seq: n }, { id: uuidv7() }),
        ]);
        appended++;
      }
    }),
  );
  const appendSeconds = (performance.now() - started) / 1000;
  const readStarted = performance.now();
  const counts = await Promise.all(
    TENANTS.map(async (tenant) => {
      let count = 0;
      for await (const _ of (await router.tenant(tenant)).readAll()) count++;
      return count;
    }),
  );
  const read = counts.reduce((a, b) => a + b, 0);
  const readSeconds = (performance.now() - readStarted) / 1000;
  return {
    appendsPerSecond: appended / appendSeconds,
    catchUpEventsPerSecond: read / readSeconds,
    events: read,
  };
}

const clusters: ScaleCluster[] = [];
let databases: Record<string, PostgresEventStore> = {};
try {
  for (let i = 3; i < 6; i++) clusters.push(await ScaleCluster.create(i, { fsync: true }));
  databases = await openDatabases(Object.fromEntries(clusters.map((c, i) => [`db${i + 1}`, c.url])), 12);
  for (const store of Object.values(databases)) await store.migrate();

  // One database: the router knows only db1. Three: the same tenants (as new ids), two per cluster.
  const one = await TenantRouter.open({ databases: { db1: databases.db1! } });
  for (const tenant of TENANTS) await one.createTenant(`one_${tenant}`);
  const three = await TenantRouter.open({ databases, placement: 'least-loaded' });
  for (const tenant of TENANTS) await three.createTenant(`three_${tenant}`);
  const renamed = (router: TenantRouter, prefix: string) =>
    ({ tenant: (id: string) => router.tenant(`${prefix}_${id}`) }) as unknown as TenantRouter;

  // Alternated (1, 3, 1, 3), each the mean of its rounds, so neither gains from going second.
  const rounds = quick ? 1 : 2;
  const runs: { single: Figures[]; spread: Figures[] } = { single: [], spread: [] };
  for (let round = 0; round < rounds; round++) {
    runs.single.push(await measure(renamed(one, 'one')));
    runs.spread.push(await measure(renamed(three, 'three')));
  }
  const mean = (list: Figures[]): Figures => ({
    appendsPerSecond: list.reduce((a, f) => a + f.appendsPerSecond, 0) / list.length,
    catchUpEventsPerSecond: list.reduce((a, f) => a + f.catchUpEventsPerSecond, 0) / list.length,
    events: list.at(-1)!.events,
  });
  const single = mean(runs.single);
  const spread = mean(runs.spread);
  const row = (name: string, f: Figures) =>
    `| ${name} | ${Math.round(f.appendsPerSecond)} | ${Math.round(f.catchUpEventsPerSecond)} | ${f.events} |`;
  console.log(
    [
      `Tenants over PostgreSQL clusters (${os.cpus().length} cores, ${WRITERS} concurrent writers over ${TENANTS.length} tenants, ${APPEND_MS / 1000} s of single-event appends, then every tenant's log read in parallel)`,
      '',
      '| databases | appends/s | catch-up events/s | events read (last round) |',
      '| --- | ---: | ---: | ---: |',
      row('1', single),
      row('3', spread),
      '',
      `ratio 3/1: appends ${(spread.appendsPerSecond / single.appendsPerSecond).toFixed(2)}x, catch-up ${(spread.catchUpEventsPerSecond / single.catchUpEventsPerSecond).toFixed(2)}x`,
    ].join('\n'),
  );
} finally {
  for (const store of Object.values(databases)) await store.close().catch(() => {});
  for (const cluster of clusters) await cluster.drop();
}
