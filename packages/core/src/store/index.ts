export type {
  AppendOptions,
  AppendResult,
  CloseOptions,
  EventFilter,
  EventStore,
  EventStoreCapabilities,
  ExpectedRevision,
  ReadAllOptions,
  ReadStreamOptions,
  SubscribeToAllOptions,
  SubscribeToStreamOptions,
} from './event-store.js';
export {
  type ExportEventsOptions,
  exportEvents,
  type ImportEventsResult,
  importEvents,
} from './export-events.js';
export { InMemoryEventStore, type InMemoryEventStoreOptions } from './in-memory-event-store.js';
export { type PublishEvent, publish, type SubscribeOptions, subscribe } from './publish-subscribe.js';
export type { CallbackSubscription, Subscription, SubscriptionHandler } from './subscription.js';
export {
  assertTenantId,
  InvalidTenantId,
  TENANT_ID_PATTERN,
  type TenantScopedStore,
} from './tenants.js';
