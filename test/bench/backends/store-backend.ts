import {
  type EventStore,
  InMemoryEventStore,
  InMemorySnapshotStore,
  type Projection,
  ProjectionRunner,
  type SnapshotStore,
} from '@annals/core';
import type { SqlTarget } from '../harness/sql-target.js';
import type { BackendName } from '../harness/types.js';
import { benchStoreOptions } from '../workload/bench-events.js';

/**
 * Makes the ProjectionRunner an application uses on a backend (PostgreSQL: batches in transactions,
 * checkpoints and leases in the database), or says why there is none.
 */
export type ProjectionRunnerFactory =
  | ((options: {
      readonly store: EventStore;
      readonly projections: readonly Projection<any>[];
      readonly batchSize: number;
    }) => ProjectionRunner<any, any>)
  | { readonly unavailable: string };

/** Store options that switch a guarantee off, to measure what it costs. */
export interface StoreVariant {
  /** PostgreSQL: send one NOTIFY per append (default true), which wakes subscribers elsewhere at once. */
  readonly notify?: boolean;
  /** Also define `BenchDepositedPersonal`, whose note is personal data: the store seals it (default key store). */
  readonly personalData?: boolean;
  /** PostgreSQL: coalesce concurrent autocommit appends into one statement and transaction (default true). */
  readonly groupCommit?: boolean;
}

/** One place the benchmark runs Annals: a way to open stores there, and plain SQL beside them. */
export interface StoreBackend {
  readonly name: BackendName;
  /** The schema this backend's tables live in (PostgreSQL); empty for memory. */
  readonly schema: string;
  /**
   * Opens a store with the benchmark's definitions and upcasters, or says why this backend has no
   * store yet (the feature has not landed): the harness then reports "not available".
   */
  readonly openStore: ((variant?: StoreVariant) => Promise<EventStore>) | { readonly unavailable: string };
  /** The snapshot store that goes with a store this backend opened. */
  snapshotStore(store: EventStore): SnapshotStore;
  /** The projection runner of this backend. */
  readonly projectionRunner: ProjectionRunnerFactory;
  /** Plain SQL on the same database, for baselines (absent for memory). */
  readonly sql: SqlTarget | undefined;
  /** Updates the planner statistics of the benchmark's tables (PostgreSQL: ANALYZE). */
  analyze(): Promise<void>;
  /** Starts a group from empty: PostgreSQL drops and recreates the benchmark schema. */
  reset(): Promise<void>;
  /** Drops what the run created and releases connections. */
  close(): Promise<void>;
}

/** The in-memory store: what Annals costs with no database at all. */
export function memoryBackend(): StoreBackend {
  return {
    name: 'memory',
    schema: '',
    openStore: async (variant = {}) => new InMemoryEventStore(benchStoreOptions(variant)),
    snapshotStore: () => new InMemorySnapshotStore(),
    projectionRunner: (options) => new ProjectionRunner(options),
    sql: undefined,
    analyze: async () => {},
    reset: async () => {},
    close: async () => {},
  };
}
