import {
  type DeadLetterStore,
  type LeaseStore,
  type ProjectionControl,
  ProjectionRunner,
  type ProjectionRunnerOptions,
} from '@annals/core';
import type { Transaction } from 'kysely';
import { isTransientError } from '../store/database-errors.js';
import type { PostgresEventStore } from '../store/postgres-event-store.js';
import { PostgresDeadLetterStore } from './postgres-dead-letter-store.js';
import { PostgresProjectionControl } from './postgres-projection-control.js';
import { runnerLeases } from './runner-leases.js';

/**
 * What a handler (or a batch handler, `handleBatch`) receives on PostgreSQL: `tx`, the Kysely
 * transaction of the batch. Write the read model through it: those writes and the checkpoint commit
 * together (exactly once). Annotate it with your database type to type the queries.
 *
 * @example
 * ```ts
 * MoneyDeposited: async (e, { tx }: PostgresProjectionContext<ReadModel>) => {
 *   await tx.updateTable('balances').set((eb) => ({ balance: eb('balance', '+', e.data.amount.value) }))
 *     .where('account_id', '=', e.data.accountId).execute();
 * },
 * ```
 */
export interface PostgresProjectionContext<DB = any> {
  readonly tx: Transaction<DB>;
}

/** Options of {@link PostgresProjectionRunner}: those of `ProjectionRunner`, with PostgreSQL defaults. */
export interface PostgresProjectionRunnerOptions
  extends Omit<
    ProjectionRunnerOptions<PostgresProjectionContext, Transaction<any>>,
    'store' | 'checkpoints' | 'transaction' | 'stats' | 'leases' | 'deadLetters' | 'control'
  > {
  readonly store: PostgresEventStore;
  /**
   * Keep each projection (or shard) on one runner at a time across processes, through the
   * `projection_leases` table; the checkpoint's compare-and-swap then checks the lease owner too.
   * `true`, `false`, or a lease store of your own. Default: true on a server, false on PGlite (one process).
   */
  readonly leases?: boolean | LeaseStore;
  /** Where projections are paused and resumed. Default: the `projection_pauses` table (`PostgresProjectionControl`). */
  readonly control?: ProjectionControl;
  /** Where `'dead-letter'` policies record skipped events. Default: the `projection_dead_letters` table. */
  readonly deadLetters?: DeadLetterStore<Transaction<any>>;
}

/**
 * A {@link ProjectionRunner} for a `PostgresEventStore`: each batch runs in one transaction of the
 * store's Kysely instance, in which the handlers (or the projection's `handleBatch`, once per batch,
 * for set-based writes) write the read model (`{ tx }`) and the checkpoint
 * advances by compare-and-swap on the previous position and the lease owner; zero rows means the
 * lease was lost, and the whole batch rolls back. A crash at any point leaves either the batch and
 * its checkpoint, or neither: each event takes effect exactly once.
 *
 * Run `store.migrate()` first (it creates the checkpoint, lease and dead-letter tables).
 *
 * @example
 * ```ts
 * const runner = new PostgresProjectionRunner({ store, projections: [AccountBalances] });
 * await runner.start();
 * // ... on shutdown:
 * await runner.stop();
 * ```
 */
export class PostgresProjectionRunner extends ProjectionRunner<PostgresProjectionContext, Transaction<any>> {
  constructor(options: PostgresProjectionRunnerOptions) {
    const { store, leases: leaseOption, ...rest } = options;
    const { leases, checkpoints } = runnerLeases(store, leaseOption);
    super({
      ...rest,
      store,
      checkpoints,
      ...(leases === undefined ? {} : { leases }),
      deadLetters: options.deadLetters ?? new PostgresDeadLetterStore(store),
      control: options.control ?? new PostgresProjectionControl(store),
      transaction: (work) => store.transaction(work),
      stats: store.logStats(),
      context: options.context ?? ((tx) => ({ tx: tx! })),
      isTransient: options.isTransient ?? isTransientError,
    });
  }
}
