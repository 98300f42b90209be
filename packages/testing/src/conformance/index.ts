export { appendCases } from './append-cases.js';
export { batchCases } from './batch-cases.js';
export { capabilityCases } from './capability-cases.js';
export { closeCases } from './close-cases.js';
export {
  collect,
  collectUntil,
  DEFAULT_DELIVERY_TIMEOUT_MS,
  deliveryTimeout,
  expectEnded,
  settleAll,
  toArray,
  withTimeout,
} from './collect.js';
export { conformanceEvents, ItemAdded, ItemRemoved } from './conformance-events.js';
export type { ConformanceCase, ConformanceContext, PeerFactory, StoreFactory } from './conformance-types.js';
export { exactDataCases, MeetingScheduled } from './exact-data-cases.js';
export {
  captureError,
  expectAnnalsError,
  expectConcurrencyConflict,
  expectRefusedSubscription,
} from './expect-error.js';
export { idempotencyCases } from './idempotency-cases.js';
export { importCases } from './import-cases.js';
export {
  type LeasedCheckpointStoreConformanceOptions,
  type LeasedCheckpointStores,
  runLeasedCheckpointStoreConformance,
} from './leased-checkpoint-conformance.js';
export { multiProcessCases } from './multi-process-cases.js';
export { orderingCases } from './ordering-cases.js';
export {
  type DeadLetterStoreConformanceOptions,
  type ProjectionControlConformanceOptions,
  runDeadLetterStoreConformance,
  runProjectionControlConformance,
} from './projection-store-conformance.js';
export { publishSubscribeCases } from './publish-subscribe-cases.js';
export { readAllCases } from './read-all-cases.js';
export { readStreamCases } from './read-stream-cases.js';
export { recordedEventCases } from './recorded-event-cases.js';
export {
  type ConformanceCaseOptions,
  type EventStoreConformanceOptions,
  eventStoreConformanceCases,
  resolveCapabilities,
  runConformanceCase,
  runEventStoreConformance,
} from './run-conformance.js';
export {
  type CheckpointStoreConformanceOptions,
  runCheckpointStoreConformance,
  runSnapshotStoreConformance,
  type SnapshotStoreConformanceOptions,
} from './store-kit-conformance.js';
export { subscriptionCases } from './subscription-cases.js';
export { runTimerStoreConformance, type TimerStoreConformanceOptions } from './timer-store-conformance.js';
export { upcastingCases } from './upcasting-cases.js';
