import {
  type Clock,
  type CommandBus,
  type CommandLogger,
  defineEvent,
  type EventStore,
  InMemoryCheckpointStore,
  InMemoryEventStore,
  InMemoryKeyStore,
  idempotency,
  logging,
  ProcessManagerRunner,
  ProcessTimerFired,
  ProjectionRunner,
  type Repositories,
  retryOnConcurrency,
} from '@annals/core';
import { registerAnnals } from '@annals/core/tsyringe';
import {
  PostgresCheckpointStore,
  PostgresEventStore,
  PostgresIdempotencyStore,
  PostgresProcessManagerRunner,
  PostgresProjectionRunner,
  PostgresSnapshotStore,
} from '@annals/postgres';
import { container } from 'tsyringe';
import { z } from 'zod';
import { bankHandlers } from './application/commands.js';
import { type TransferTimeouts, transferProcess } from './application/transfer-process.js';
import type { ExampleOptions } from './cli.js';
import { claimDataFolder, resetDataFolder } from './data-folder.js';
import { bankEvents, upcasters } from './domain/events.js';
import { startTransferOutbox, TRANSFER_OUTBOX } from './integration/nats-outbox.js';
import {
  AccountBalances,
  createReadModel,
  queryBalances,
  readModelSchema,
} from './read-models/account-balances.js';
import { accountStatements, Statements } from './read-models/account-statements.js';
import { createExampleSchemas, dropExampleSchemas } from './server-schemas.js';

/** The PostgreSQL schema of the example's event store. */
export const storeSchema = 'bank';

/** The schemas the example creates on a server (and `--reset` drops, when it created them). */
const exampleSchemas = [storeSchema, readModelSchema];

/** The example's transfer time limits: short, so a run shows a transfer expiring. */
const defaultTimeouts: TransferTimeouts = { creditTimeoutMs: 1500, creditRetryMs: 300 };

/** Recorded once per run of the example, so a later run knows it is one. */
export const ExampleRan = defineEvent('ExampleRan', { schema: z.object({ store: z.string() }) });

/** Balances as the report shows them, from whichever read model the store has. */
export interface BalanceRow {
  readonly accountId: string;
  readonly owner: string;
  readonly currency: string;
  readonly balance: number;
  readonly overdraftLimit: number;
  readonly status: string;
}

/** Everything the scenario needs, wired for one store. */
export interface Bank {
  readonly store: EventStore;
  readonly bus: CommandBus;
  readonly repositories: Repositories;
  readonly statements: Statements;
  /** Runners of the projections; wait on them before reading the read models. */
  readonly runners: readonly ProjectionRunner<any, any>[];
  /** The runner of the transfer process manager. */
  readonly processes: ProcessManagerRunner;
  /** Human name of the store, for the report. */
  readonly description: string;
  /** What `--reset` deleted: the data folder (or its entries), or `schema <name>` on a server. */
  readonly resetDeleted: readonly string[];
  /** Each projection's checkpoint when this run started (absent: it starts from zero). */
  readonly checkpointsAtStart: ReadonlyMap<string, bigint>;
  /** Balances from the PostgreSQL table (`account-balances`), or undefined on the memory store. */
  balancesTable(): Promise<BalanceRow[] | undefined>;
  waitForProjections(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Opens the store the options name and wires bus, repositories and projections around it. With
 * `reset`, first deletes what the example created (and nothing else: see `data-folder.ts` and
 * `server-schemas.ts`), or throws `ResetRefused`. `wiring.logger` (pino, in `main.ts` with
 * `ANNALS_LOGGER=pino`) goes to the store, the runners and the bus's `logging` middleware.
 */
export async function openBank(
  options: ExampleOptions,
  wiring: {
    readonly logger?: CommandLogger | undefined;
    readonly transfers?: TransferTimeouts;
    readonly clock?: Clock;
  } = {},
): Promise<Bank> {
  const logger = wiring.logger === undefined ? {} : { logger: wiring.logger };
  // Given definitions, every store refuses undefined types (a typo never enters the log). Timers of
  // process managers fire as ProcessTimerFired events.
  const registry = { events: [...bankEvents, ExampleRan, ProcessTimerFired], upcasters };
  let store: EventStore;
  let pg: PostgresEventStore | undefined;
  let description: string;
  let resetDeleted: string[] = [];
  if (options.store === 'memory') {
    // Personal fields (the owner's name) are sealed under per-holder keys, kept in memory here.
    store = new InMemoryEventStore({
      ...registry,
      personalData: { keys: new InMemoryKeyStore() },
      ...logger,
    });
    description = 'in memory (nothing is kept after the run)';
  } else {
    if (options.store === 'pglite') {
      if (options.reset) resetDeleted = await resetDataFolder(options.dataDir);
      await claimDataFolder(options.dataDir);
    }
    pg = await PostgresEventStore.create(
      options.store === 'pglite' ? { pglite: options.dataDir } : { connectionString: options.databaseUrl! },
      // The holders' keys live in the store's database (personal_data_keys), apart from the log.
      { ...registry, schema: storeSchema, personalData: { keys: 'postgres' }, ...logger },
    );
    try {
      if (options.store === 'postgres' && options.reset) {
        const dropped = await dropExampleSchemas(pg.kysely, exampleSchemas);
        resetDeleted = dropped.map((schema) => `schema ${schema}`);
      }
      await createExampleSchemas(pg.kysely, exampleSchemas);
    } catch (error) {
      await pg.close();
      throw error;
    }
    await pg.migrate();
    await createReadModel(pg.kysely);
    store = pg;
    description =
      options.store === 'pglite'
        ? `embedded PostgreSQL (PGlite) in ${options.dataDir}`
        : `PostgreSQL server (schema ${storeSchema})`;
  }

  const di = container.createChildContainer();
  const { bus, repositories } = registerAnnals(di, {
    store,
    snapshots: { every: 20, ...(pg === undefined ? {} : { store: new PostgresSnapshotStore(pg) }) },
    handlers: bankHandlers,
    // A command sent again with its id (a process manager after a crash) runs once. On PostgreSQL the
    // record commits with the command's events (a crash leaves both or neither), and each retry of a
    // conflict is a transaction of its own, so retries come first; in memory, idempotency comes first.
    // Inside that transaction, repositories and the daily limit's decision model read through it.
    middleware: [
      ...(pg === undefined ? [idempotency()] : []),
      ...(wiring.logger === undefined ? [] : [logging(wiring.logger)]),
      retryOnConcurrency({ maxAttempts: 5 }),
      ...(pg === undefined ? [] : [idempotency({ store: new PostgresIdempotencyStore(pg) })]),
    ],
  });

  // Statements live in memory: rebuilt from the log at every start (replayability, shown).
  const statements = new Statements();
  const inMemory = new ProjectionRunner({
    store,
    projections: [accountStatements(statements)],
    checkpoints: new InMemoryCheckpointStore(),
    ...logger,
  });
  // The transfer process keeps its instances, timers and checkpoint where the events are, so it
  // resumes after a restart, and its timers fire late rather than never.
  const processManagers = [transferProcess(wiring.transfers ?? defaultTimeouts)];
  const clock = wiring.clock === undefined ? {} : { clock: wiring.clock };
  const processes =
    pg === undefined
      ? new ProcessManagerRunner({ store, bus, processManagers, timerPollMs: 100, ...clock, ...logger })
      : new PostgresProcessManagerRunner({
          store: pg,
          bus,
          processManagers,
          timerPollMs: 100,
          ...clock,
          ...logger,
        });
  // Balances go to a PostgreSQL table, in the same transaction as their checkpoint.
  const runners: ProjectionRunner<any, any>[] = [inMemory, processes.projections];
  if (pg !== undefined)
    runners.push(new PostgresProjectionRunner({ store: pg, projections: [AccountBalances], ...logger }));
  // With NATS_URL, the transfers are published to NATS JetStream as integration messages too.
  const nats =
    options.natsUrl === undefined ? undefined : await startTransferOutbox(options.natsUrl, store, pg);
  if (nats !== undefined) runners.push(nats.runner);
  const checkpointsAtStart = new Map<string, bigint>();
  if (pg !== undefined) {
    const checkpoints = new PostgresCheckpointStore(pg);
    for (const name of [AccountBalances.name, 'transfer-process', ...(nats ? [TRANSFER_OUTBOX] : [])]) {
      const position = await checkpoints.load(name);
      if (position !== undefined) checkpointsAtStart.set(name, position);
    }
  }
  for (const runner of runners) if (runner !== processes.projections) await runner.start();
  await processes.start();

  return {
    store,
    bus,
    repositories,
    statements,
    runners,
    processes,
    description,
    resetDeleted,
    checkpointsAtStart,
    balancesTable: async () => (pg === undefined ? undefined : queryBalances(pg.kysely)),
    async waitForProjections() {
      for (const runner of runners) await runner.waitUntilCaughtUp();
    },
    async close() {
      await processes.stop();
      for (const runner of runners) await runner.stop();
      await nats?.close();
      await store.close();
    },
  };
}
