/**
 * pnpm bench:peers: Annals side by side with Emmett's PostgreSQL store on the same server. Prints
 * the figures as Markdown tables on stdout, progress on stderr, and exits non-zero when Annals lost
 * or duplicated an event in the catch-up-while-writing check. See docs/guides/performance.md.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { openAnnals } from './annals-store.js';
import { type CheckResult, runCatchUpCheck } from './catch-up-check.js';
import { openEmmett } from './emmett-store.js';
import type { PeerStore } from './peer-store.js';
import { runWorkload, type Sizes, type WorkloadResult, workloads } from './workloads.js';

const usage = `Usage: pnpm bench:peers [options]   (DATABASE_URL names the PostgreSQL server)
  --rounds N          measured rounds (default 5)      --warmup N        warm-up rounds (default 1)
  --sequential N      single-event appends per round (default 1000)
  --concurrent N      single-event appends per round over --appenders loops (default 2000, 16)
  --batches N         100-event appends per round (default 50)
  --stream-size N     events of the stream readStream reads (default 10000)
  --log-size N        events of the log the catch-up reads (default 100000)
  --page-size N       rows per page of global reads, both stores (default 1000)
  --check-writers N   writers of the catch-up-while-writing check (default 16)
  --check-appends N   appends per writer, 1 to 5 events each (default 150)
  --check-quiet-ms N  after the writers, stop a reader of a store that may skip events (Emmett) once it got nothing new for N ms (default 5000); Annals readers are waited for until they have every event
  --only WORDS        comma-separated: run the workloads whose name contains a word; "check" the check
  --schema NAME       Annals' schema (default annals_bench_peers)
  --emmett-db NAME    Emmett's database on the same server (default annals_bench_peers_emmett)`;

function options() {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '1' },
      sequential: { type: 'string', default: '1000' },
      concurrent: { type: 'string', default: '2000' },
      appenders: { type: 'string', default: '16' },
      batches: { type: 'string', default: '50' },
      'stream-size': { type: 'string', default: '10000' },
      'log-size': { type: 'string', default: '100000' },
      'page-size': { type: 'string', default: '1000' },
      'check-writers': { type: 'string', default: '16' },
      'check-appends': { type: 'string', default: '150' },
      'check-quiet-ms': { type: 'string', default: '5000' },
      only: { type: 'string' },
      schema: { type: 'string', default: 'annals_bench_peers' },
      'emmett-db': { type: 'string', default: 'annals_bench_peers_emmett' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const int = (name: keyof typeof values, min: number) => {
    const n = Number(values[name]);
    if (!Number.isSafeInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}`);
    return n;
  };
  const name = (value: string) => {
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(value)) throw new Error(`not a plain identifier: ${value}`);
    return value;
  };
  const sizes: Sizes = {
    rounds: int('rounds', 1),
    warmup: int('warmup', 0),
    sequential: int('sequential', 1),
    concurrent: int('concurrent', 1),
    appenders: int('appenders', 1),
    batches: int('batches', 1),
    streamSize: int('stream-size', 1),
    logSize: int('log-size', 1),
  };
  return {
    sizes,
    pageSize: int('page-size', 1),
    check: {
      writers: int('check-writers', 1),
      appends: int('check-appends', 1),
      quietMs: int('check-quiet-ms', 1),
    },
    only: values.only?.split(',').map((w) => w.trim().toLowerCase()),
    schema: name(values.schema!),
    emmettDb: name(values['emmett-db']!),
  };
}

function versions(admin: pg.Pool) {
  // Its package.json is not among its exports: read from the folder this package installs into.
  const pkg = (name: string) =>
    JSON.parse(readFileSync(new URL(`./node_modules/${name}/package.json`, import.meta.url), 'utf8'))
      .version as string;
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['--no-optional-locks', 'rev-parse', '--short', 'HEAD'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {}
  return admin.query<{ server_version: string }>('SHOW server_version').then(({ rows }) => ({
    annals: `workspace sources at ${commit}`,
    emmett: pkg('@event-driven-io/emmett-postgresql'),
    postgres: rows[0]!.server_version,
    node: process.version,
  }));
}

const fmt = (n: number) =>
  n >= 1e6
    ? `${(n / 1e6).toFixed(2)}M`
    : n >= 1e4
      ? `${(n / 1e3).toFixed(1)}k`
      : Math.round(n).toLocaleString('en-US');

function workloadTable(results: readonly WorkloadResult[]): string {
  const lines = [
    '| workload | Annals | Emmett | Annals/Emmett (median of per-round ratios) | per-round ratios |',
    '| --- | ---: | ---: | ---: | --- |',
  ];
  for (const r of results) {
    lines.push(
      `| ${r.name} | ${fmt(r.median.Annals!)} ${r.unit} | ${fmt(r.median.Emmett!)} ${r.unit} | ${r.medianRatio.toFixed(2)}x | ${r.ratios.map((x) => x.toFixed(2)).join(', ')} |`,
    );
  }
  return lines.join('\n');
}

function checkTable(results: readonly CheckResult[]): string {
  const lines = [
    '| store | reader | appended | stored | read | lost | duplicated |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of results) {
    for (const reader of r.readers) {
      const unknown = reader.unknown > 0 ? ` (+${reader.unknown} never appended)` : '';
      lines.push(
        `| ${r.store} | ${reader.reader} | ${r.appended} | ${r.stored} | ${reader.read}${unknown} | ${reader.lost} | ${reader.duplicated} |`,
      );
    }
  }
  return lines.join('\n');
}

async function main(): Promise<number> {
  const opts = options();
  const url = process.env.DATABASE_URL;
  if (!url) {
    console.error('bench:peers needs DATABASE_URL (a PostgreSQL server both stores use).');
    return 2;
  }
  const wanted = (name: string) => !opts.only || opts.only.some((w) => name.toLowerCase().includes(w));
  const admin = new pg.Pool({ connectionString: url, max: 2 });
  const progress = (line: string) => console.error(line);
  const started = performance.now();
  const env = await versions(admin);
  const poolSize = Math.max(opts.sizes.appenders, opts.check.writers) + 2;
  const stores: PeerStore[] = [];
  try {
    stores.push(
      await openAnnals({ url, schema: opts.schema, poolSize, pageSize: opts.pageSize, admin }),
      await openEmmett({ url, database: opts.emmettDb, poolSize, pageSize: opts.pageSize, admin }),
    );
    const pair = stores as unknown as readonly [PeerStore, PeerStore];
    const results: WorkloadResult[] = [];
    for (const workload of workloads(opts.sizes).filter((w) => wanted(w.name))) {
      progress(`${workload.name}`);
      results.push(await runWorkload(workload, pair, opts.sizes, progress));
    }
    const checks: CheckResult[] = [];
    if (wanted('check')) {
      for (const store of pair) {
        progress(`catch-up while writing: ${store.name}`);
        checks.push(await runCatchUpCheck(store, opts.check));
      }
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `Annals ${env.annals}, @event-driven-io/emmett-postgresql ${env.emmett}, PostgreSQL ${env.postgres}, Node ${env.node}; ${opts.sizes.rounds} rounds after ${opts.sizes.warmup} warm-up; ${seconds.toFixed(0)} s.\n`,
    );
    if (results.length > 0) console.log(`${workloadTable(results)}\n`);
    if (checks.length > 0) {
      console.log(
        `Catch-up while writing: ${opts.check.writers} writers x ${opts.check.appends} appends of 1 to 5 events.\n`,
      );
      console.log(`${checkTable(checks)}\n`);
    }
    const annalsFailed = checks
      .filter((c) => c.store === 'Annals')
      .flatMap((c) => c.readers)
      .filter((r) => r.lost > 0 || r.duplicated > 0 || r.unknown > 0);
    if (annalsFailed.length > 0) {
      console.error(`Annals lost or duplicated events: ${JSON.stringify(annalsFailed)}`);
      return 1;
    }
    return 0;
  } finally {
    for (const store of stores) await store.close().catch((e) => console.error(`closing ${store.name}:`, e));
    await admin.end();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
