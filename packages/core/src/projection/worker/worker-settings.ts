import type { Logger } from '../../observability/logger.js';
import type { EventStore } from '../../store/event-store.js';
import type { CheckpointStore } from '../checkpoint-store.js';
import type { DeadLetterStore } from '../dead-letter-store.js';
import type { Projection } from '../define-projection.js';
import type { EventLogStats } from '../event-log-stats.js';
import type { LeaseStore } from '../lease-store.js';
import type { ProjectionControl } from '../projection-control.js';

/**
 * Runs one batch as a unit of work: the handlers' effects, the checkpoint and any dead letter commit
 * or roll back together. Postgres: `(work) => db.transaction().execute(work)`.
 */
export type ProjectionTransaction<TTransaction> = <R>(
  work: (transaction: TTransaction) => Promise<R>,
) => Promise<R>;

/** Everything a worker needs; built by the runner. */
export interface WorkerSettings<TContext, TTransaction> {
  readonly store: EventStore;
  readonly projection: Projection<TContext>;
  readonly key: string;
  readonly shard: { readonly index: number; readonly count: number } | undefined;
  readonly checkpoints: CheckpointStore<TTransaction>;
  readonly leases: LeaseStore | undefined;
  /** Where pauses are recorded; read by name, so every shard of a projection pauses together. */
  readonly control: ProjectionControl;
  readonly deadLetters: DeadLetterStore<TTransaction>;
  readonly transaction: ProjectionTransaction<TTransaction> | undefined;
  readonly context: (transaction: TTransaction | undefined) => TContext;
  readonly stats: EventLogStats;
  readonly owner: string;
  readonly batchSize: number;
  readonly leaseTtlMs: number;
  readonly statusRefreshMs: number;
  readonly logger: Logger;
  /** Errors of the infrastructure (a lost connection): retried without end, never a poison event. */
  readonly isTransient: (error: unknown) => boolean;
}

/** How often a lease is renewed and a standby worker polls: a third of the lease's lifetime. */
export function pollInterval(leaseTtlMs: number): number {
  return Math.max(10, Math.floor(leaseTtlMs / 3));
}
