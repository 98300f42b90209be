import { parseArgs } from 'node:util';

/** Where the example keeps its events. */
export type StoreKind = 'memory' | 'pglite' | 'postgres';

/** The example's command-line options. */
export interface ExampleOptions {
  readonly store: StoreKind;
  readonly dataDir: string;
  readonly databaseUrl: string | undefined;
  readonly reset: boolean;
  /** NATS_URL: when set, the transfers are also published to NATS JetStream through an outbox. */
  readonly natsUrl?: string | undefined;
}

export const usage = `Usage: pnpm example [-- options]

Runs the bank-account scenario and prints what happened.

Options:
  --store <kind>   memory | pglite | postgres
                   default: postgres when DATABASE_URL is set, else pglite (embedded, no server)
  --data <dir>     PGlite data folder (default: examples/bank-account/.data)
  --reset          forget the stored history and start over: deletes only what the example
                   created (its data folder, marked by a .annals-bank-account-example file, or
                   on a server the schemas bank and bank_read it created); refuses anything else
  -h, --help       show this help

Environment:
  ANNALS_OTEL=console   register the OpenTelemetry SDK and print spans and metrics on the console
  ANNALS_LOGGER=pino    log through pino (JSON lines)

Examples:
  pnpm example                                   embedded PostgreSQL (PGlite) in a local folder
  pnpm example -- --store memory                 in memory, nothing kept
  DATABASE_URL=postgres://localhost/db pnpm example   a PostgreSQL server
  NATS_URL=nats://127.0.0.1:4222 pnpm example    also publishes the transfers to NATS JetStream
                                                 (stream BANK_TRANSFERS, subjects bank.transfers.*)`;

/** A bad command line: the message says what was wrong; print it with {@link usage}. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Parses the command line (and DATABASE_URL, NATS_URL) into options, or throws {@link UsageError}. */
export function parseOptions(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  defaultDataDir: string,
): ExampleOptions | 'help' {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv.filter((a) => a !== '--'));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  if (positionals.length > 0) throw new UsageError(`Unexpected argument: ${positionals.join(' ')}`);
  const databaseUrl = env.DATABASE_URL || undefined;
  const store = values.store ?? (databaseUrl ? 'postgres' : 'pglite');
  if (store !== 'memory' && store !== 'pglite' && store !== 'postgres') {
    throw new UsageError(`--store must be memory, pglite or postgres; found "${store}".`);
  }
  if (store === 'postgres' && databaseUrl === undefined) {
    throw new UsageError('--store postgres needs DATABASE_URL (e.g. DATABASE_URL=postgres://localhost/db).');
  }
  return {
    store,
    dataDir: values.data ?? defaultDataDir,
    databaseUrl,
    reset: values.reset ?? false,
    natsUrl: env.NATS_URL || undefined,
  };
}

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      store: { type: 'string' },
      data: { type: 'string' },
      reset: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
