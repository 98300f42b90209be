export { ChangeNotifier } from './change-notifier.js';
export { DEFAULT_DRAIN_TIMEOUT_MS, drainSubscriptions, drainTimeoutOf } from './close-options.js';
export {
  type AppendOptions,
  type AppendResult,
  type CloseOptions,
  defaultCapabilities,
  type EventFilter,
  type EventStore,
  type EventStoreCapabilities,
  type ExpectedRevision,
  type PublishEvent,
  type ReadAllOptions,
  type ReadStreamOptions,
  type SubscribeToAllOptions,
  type SubscribeToStreamOptions,
} from './event-store.js';
export {
  assertEventFilter,
  assertExpectedRevision,
  expectedRevisionHolds,
  normalizeExpectedRevision,
  toBigIntOption,
  toMaxCount,
} from './expected-revision.js';
export { InMemoryEventStore, type InMemoryEventStoreOptions } from './in-memory-event-store.js';
export {
  MAX_KEY_BYTES,
  MAX_POSITION,
  MAX_PROJECTION_NAME_LENGTH,
  MAX_REVISION,
  MAX_STREAM_ID_BYTES,
} from './limits.js';
export { assertStoreKey, type StoreKeyOptions, storeKeyProblem } from './store-key.js';
export {
  type CallbackSubscription,
  deliverToCallback,
  type PullPage,
  type PullReadOptions,
  type PullSource,
  PullSubscription,
  type Subscription,
  type SubscriptionHandler,
} from './subscription.js';
