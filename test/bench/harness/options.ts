import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { BackendName } from './types.js';

/** Work sizes of one backend. The figures the issue names are the full-run defaults. */
export interface Sizes {
  /** Single-event appends per round, sequential. */
  readonly sequentialAppends: number;
  /** Single-event appends per round, spread over {@link concurrency} appenders. */
  readonly concurrentAppends: number;
  readonly concurrency: number;
  /** Batches per round, of {@link batchSize} events each. */
  readonly batches: number;
  readonly batchSize: number;
  /** Successful appends per round to one stream by {@link racers} writers. */
  readonly racingAppends: number;
  readonly racers: number;
  /** Length of the stream read by readStream. */
  readonly streamLength: number;
  /** Events read by a readAll catch-up (and by a projection catch-up). */
  readonly catchUpEvents: number;
  /** Rows of the unnest INSERT baseline. */
  readonly unnestRows: number;
  /** Length of the aggregate's stream, and loads per round. */
  readonly aggregateEvents: number;
  readonly aggregateLoads: number;
  /** Commands per round through the bus. */
  readonly commands: number;
}

/** Everything the command line decides. */
export interface BenchOptions {
  readonly quick: boolean;
  readonly warmupRounds: number;
  readonly rounds: number;
  readonly timeoutMs: number;
  /** Backends to run; the server only when a connection string is known. */
  readonly backends: ReadonlySet<BackendName>;
  /** Keep only measurement groups whose name contains one of these. */
  readonly only: readonly string[] | undefined;
  readonly databaseUrl: string | undefined;
  /** The schema the run creates (and drops at the end) on PGlite and on the server. */
  readonly schema: string;
  /** Where the JSON results go; undefined with --no-json. */
  readonly resultsDir: string | undefined;
  readonly sizes: (backend: BackendName) => Sizes;
}

const FULL: Record<BackendName, Sizes> = {
  memory: {
    sequentialAppends: 20_000,
    concurrentAppends: 20_000,
    concurrency: 16,
    batches: 500,
    batchSize: 100,
    racingAppends: 10_000,
    racers: 4,
    streamLength: 10_000,
    catchUpEvents: 100_000,
    unnestRows: 10_000,
    aggregateEvents: 1_000,
    aggregateLoads: 200,
    commands: 20_000,
  },
  pglite: {
    sequentialAppends: 1_000,
    concurrentAppends: 1_000,
    concurrency: 16,
    batches: 50,
    batchSize: 100,
    racingAppends: 500,
    racers: 4,
    streamLength: 10_000,
    catchUpEvents: 100_000,
    unnestRows: 10_000,
    aggregateEvents: 1_000,
    aggregateLoads: 20,
    commands: 1_000,
  },
  server: {
    sequentialAppends: 1_000,
    concurrentAppends: 2_000,
    concurrency: 16,
    batches: 100,
    batchSize: 100,
    racingAppends: 500,
    racers: 4,
    streamLength: 10_000,
    catchUpEvents: 100_000,
    unnestRows: 10_000,
    aggregateEvents: 1_000,
    aggregateLoads: 50,
    commands: 1_000,
  },
};

/** Tiny sizes: the smoke run proves that every measurement runs, not how fast. */
const QUICK: Sizes = {
  sequentialAppends: 20,
  concurrentAppends: 32,
  concurrency: 16,
  batches: 3,
  batchSize: 100,
  racingAppends: 20,
  racers: 4,
  streamLength: 200,
  catchUpEvents: 1_000,
  unnestRows: 1_000,
  aggregateEvents: 100,
  aggregateLoads: 3,
  commands: 50,
};

const BACKENDS: readonly BackendName[] = ['memory', 'pglite', 'server'];

const USAGE = `Usage: pnpm bench [options]

  --quick              tiny sizes, no warm-up, 2 rounds: proves the harness runs (CI smoke run)
  --rounds N           measured rounds (default 5; quick 2)
  --warmup N           warm-up rounds (default 1; quick 0)
  --backends LIST      comma list of memory,pglite,server (default: all; server needs DATABASE_URL)
  --only LIST          comma list: run only groups whose name contains one of these words
  --schema NAME        schema created and dropped on PGlite and the server (default annals_bench)
  --no-json            do not write test/bench/results/<timestamp>.json (a quick run writes it
                       under the temporary folder)
  --help

The server is the one DATABASE_URL names; without it the server column is skipped.`;

/** Parses the command line. Prints the usage and exits on --help or on a bad option. */
export function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv): BenchOptions {
  let values: ReturnType<typeof parse>['values'];
  try {
    values = parse(argv).values;
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}\n`);
    process.exit(2);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const quick = values.quick === true;
  const backends = new Set<BackendName>();
  for (const name of (values.backends ?? BACKENDS.join(',')).split(',')) {
    const trimmed = name.trim() as BackendName;
    if (!BACKENDS.includes(trimmed)) usageError(`--backends expects memory, pglite or server, found ${name}`);
    backends.add(trimmed);
  }
  const schema = values.schema ?? 'annals_bench';
  if (!/^[a-z_][a-z0-9_]*$/.test(schema))
    usageError(`--schema expects a lower-case identifier, found ${schema}`);
  const databaseUrl =
    env.DATABASE_URL === undefined || env.DATABASE_URL === '' ? undefined : env.DATABASE_URL;
  if (databaseUrl === undefined) backends.delete('server');
  return {
    quick,
    warmupRounds: count('--warmup', values.warmup, quick ? 0 : 1, 0),
    rounds: count('--rounds', values.rounds, quick ? 2 : 5, 1),
    timeoutMs: quick ? 60_000 : 600_000,
    backends,
    only: values.only?.split(',').map((s) => s.trim()),
    databaseUrl,
    schema,
    // A smoke run's figures mean nothing: its JSON goes to the temporary folder, not test/bench/results.
    resultsDir: values['no-json']
      ? undefined
      : quick
        ? join(tmpdir(), 'annals-bench-quick')
        : fileURLToPath(new URL('../results/', import.meta.url)),
    sizes: (backend) => (quick ? QUICK : FULL[backend]),
  };
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    options: {
      quick: { type: 'boolean' },
      rounds: { type: 'string' },
      warmup: { type: 'string' },
      backends: { type: 'string' },
      only: { type: 'string' },
      schema: { type: 'string' },
      'no-json': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: false,
  });
}

function count(flag: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) usageError(`${flag} expects a whole number >= ${min}, found ${value}`);
  return n;
}

function usageError(message: string): never {
  process.stderr.write(`${message}\n\n${USAGE}\n`);
  process.exit(2);
}
