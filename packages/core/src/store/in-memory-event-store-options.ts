import type { EventRegistry, EventRegistryOptions } from '../events/event-registry.js';
import type { Logger } from '../observability/logger.js';

/** Options of `InMemoryEventStore`. */
export interface InMemoryEventStoreOptions extends Omit<EventRegistryOptions, 'events'> {
  /** Event definitions (or a shared {@link EventRegistry}). */
  readonly events?: EventRegistryOptions['events'] | EventRegistry;
  /** Page size of subscriptions' reads. Default 500. */
  readonly pageSize?: number;
  /**
   * Where personal fields' keys live (see `personal()`). Default: when a definition declares
   * personal fields, an `InMemoryKeyStore`, which lives exactly as long as this store's events.
   */
  readonly personalData?: EventRegistryOptions['personalData'];
  /** Where the store logs (a failing `subscribe` callback without `onError`). Default `consoleLogger`. */
  readonly logger?: Logger;
}
