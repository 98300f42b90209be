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
export { dcbCases } from './dcb-cases.js';
export {
  AccountRegistered,
  CourseDefined,
  dcbEvents,
  InvoiceCreated,
  OptInConfirmed,
  OptInRequested,
  StudentSubscribed,
  UsernameReleased,
} from './dcb-events.js';
export { dcbExampleCases } from './dcb-example-cases.js';
export { dcbRaceCase, dcbRaceCases } from './dcb-race-cases.js';
export { exactDataCases, MeetingScheduled } from './exact-data-cases.js';
export {
  captureError,
  expectAnnalsError,
  expectConcurrencyConflict,
  expectRefusedSubscription,
} from './expect-error.js';
export { idempotencyCases } from './idempotency-cases.js';
export { importCases } from './import-cases.js';
export { type KeyStoreConformanceOptions, runKeyStoreConformance } from './key-store-conformance.js';
export {
  type LeasedCheckpointStoreConformanceOptions,
  type LeasedCheckpointStores,
  runLeasedCheckpointStoreConformance,
} from './leased-checkpoint-conformance.js';
export { multiProcessCases } from './multi-process-cases.js';
export { orderingCases } from './ordering-cases.js';
export { personalDataCases } from './personal-data-cases.js';
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
export {
  type TenantIsolationCase,
  type TenantIsolationContext,
  type TenantStore,
  tenantIsolationCases,
} from './tenant-isolation-cases.js';
export {
  runTenantIsolationCase,
  runTenantIsolationConformance,
  type TenantIsolationCaseOptions,
  type TenantIsolationConformanceOptions,
} from './tenant-isolation-conformance.js';
export { runTimerStoreConformance, type TimerStoreConformanceOptions } from './timer-store-conformance.js';
export { upcastingCases } from './upcasting-cases.js';
