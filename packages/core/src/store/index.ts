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
export { InMemoryEventStore, type InMemoryEventStoreOptions } from './in-memory-event-store.js';
export { type PublishEvent, publish, type SubscribeOptions, subscribe } from './publish-subscribe.js';
export type { CallbackSubscription, Subscription, SubscriptionHandler } from './subscription.js';
