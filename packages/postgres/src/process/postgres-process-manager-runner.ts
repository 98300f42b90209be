import {
  type CheckpointStore,
  type LeaseStore,
  ProcessManagerRunner,
  type ProcessManagerRunnerOptions,
  type ProcessStore,
  type ProjectionControl,
} from '@annals/core';
import { PostgresEventLogStats } from '../projection/postgres-event-log-stats.js';
import { PostgresProjectionControl } from '../projection/postgres-projection-control.js';
import { runnerLeases } from '../projection/runner-leases.js';
import { isTransientError } from '../store/database-errors.js';
import type { PostgresEventStore } from '../store/postgres-event-store.js';
import { PostgresProcessStore } from './postgres-process-store.js';

/** Options of {@link PostgresProcessManagerRunner}: those of `ProcessManagerRunner`, with PostgreSQL defaults. */
export interface PostgresProcessManagerRunnerOptions
  extends Omit<ProcessManagerRunnerOptions, 'store' | 'stats' | 'leases' | 'control'> {
  readonly store: PostgresEventStore;
  /** Instances, outcomes and timers. Default: a `PostgresProcessStore` on the store's schema. */
  readonly processes?: ProcessStore;
  /** The checkpoints. Default: the `checkpoints` table, checked against the lease when there are leases. */
  readonly checkpoints?: CheckpointStore;
  /**
   * Keep each process manager on one runner at a time across processes, through the
   * `projection_leases` table, as projections. Default: true on a server, false on PGlite (one process).
   */
  readonly leases?: boolean | LeaseStore;
  /**
   * Where process managers are paused and resumed, by name. Default: the `projection_pauses` table
   * (`PostgresProjectionControl`), so `annals projections pause <name>` and the console pause them too.
   */
  readonly control?: ProjectionControl;
}

/**
 * A {@link ProcessManagerRunner} on a `PostgresEventStore`: instances, command outcomes and timers in
 * the store's schema (`PostgresProcessStore`), the checkpoint in `checkpoints` (checked against the
 * lease when there are leases), the lag measured in SQL. Run `store.migrate()` first.
 *
 * @example
 * ```ts
 * const runner = new PostgresProcessManagerRunner({ store, bus, processManagers: [TransferProcess] });
 * await runner.start();
 * ```
 */
export class PostgresProcessManagerRunner extends ProcessManagerRunner {
  constructor(options: PostgresProcessManagerRunnerOptions) {
    const { store, leases: leaseOption, ...rest } = options;
    const { leases, checkpoints } = runnerLeases(store, leaseOption);
    super({
      ...rest,
      store,
      processes: options.processes ?? new PostgresProcessStore(store),
      checkpoints: options.checkpoints ?? checkpoints,
      ...(leases === undefined ? {} : { leases }),
      control: options.control ?? new PostgresProjectionControl(store),
      stats: new PostgresEventLogStats(store),
      isTransient: options.isTransient ?? isTransientError,
    });
  }
}
