export type { CheckpointSaveOptions, CheckpointStore } from './checkpoint-store.js';
export {
  type DeadLetter,
  type DeadLetterStore,
  InMemoryDeadLetterStore,
  type StoredDeadLetter,
} from './dead-letter-store.js';
export {
  type BatchProjectionOptions,
  defineProjection,
  type Projection,
  type ProjectionBatchHandler,
  type ProjectionContext,
  type ProjectionEventOf,
  type ProjectionHandler,
  type ProjectionHandlersFor,
  type TypedProjectionOptions,
  type UntypedProjectionOptions,
} from './define-projection.js';
export { type EventLogStats, type PendingEvents, readAllLogStats } from './event-log-stats.js';
export type { ProjectionFailurePolicy, ResolvedFailurePolicy } from './failure-policy.js';
export {
  InMemoryCheckpointStore,
  type InMemoryCheckpointStoreOptions,
} from './in-memory-checkpoint-store.js';
export { InMemoryLeaseStore, type InMemoryLeaseStoreOptions } from './in-memory-lease-store.js';
export { InMemoryProjectionControl } from './in-memory-projection-control.js';
export type { Lease, LeaseStore } from './lease-store.js';
export type { PausedProjection, ProjectionControl } from './projection-control.js';
export {
  CheckpointConflict,
  type FailedEventInfo,
  failedEventInfo,
  isCheckpointConflict,
  isLeaseLost,
  LeaseLost,
  ProjectionDefinitionInvalid,
  ProjectionFailed,
} from './projection-errors.js';
export { ProjectionRunner } from './projection-runner.js';
export type { ProjectionRunnerOptions, RebuildOptions, RebuildResult } from './projection-runner-options.js';
export type {
  ProjectionErrorInfo,
  ProjectionState,
  ProjectionStatus,
  RebuildProgress,
} from './projection-status.js';
export { shardKey, shardOf } from './shard.js';
export type { ProjectionTransaction } from './worker/worker-settings.js';
