import type { EventRegistryOptions, EventStore, EventStoreCapabilities } from '@annals/core';

/** Creates a fresh, empty store for one conformance case, knowing the given definitions and upcasters. */
export type StoreFactory = (options: EventRegistryOptions) => EventStore | Promise<EventStore>;

/**
 * Opens another instance on the same log as `store` (same data, same definitions), as another
 * process would: a store that declares `multiProcess` must provide it.
 */
export type PeerFactory = (store: EventStore) => EventStore | Promise<EventStore>;

/** What a conformance case receives. */
export interface ConformanceContext {
  /** A fresh, empty store; closed automatically after the case. */
  createStore(options?: EventRegistryOptions): Promise<EventStore>;
  /** Another instance on `store`'s log (see {@link PeerFactory}); closed after the case. */
  openPeer?(store: EventStore): Promise<EventStore>;
  /** The capabilities the adapter declared. */
  readonly capabilities: EventStoreCapabilities;
  /**
   * How long a case waits for something it expects a subscription to deliver, in milliseconds.
   * Cases fall back to `DEFAULT_DELIVERY_TIMEOUT_MS` (5000) when it is not given.
   */
  readonly deliveryTimeoutMs?: number;
}

/** One guarantee, proved against any store. */
export interface ConformanceCase {
  /** The guarantee group, e.g. `append`, `ordering`, `subscriptions`. */
  readonly group: string;
  /** What is proved, as a sentence: `a wrong expected revision raises ConcurrencyConflict and writes nothing`. */
  readonly name: string;
  /** Runs only when the adapter's capabilities satisfy this. */
  readonly requires?: (capabilities: EventStoreCapabilities) => boolean;
  /** Throws (through `expect`) when the store breaks the guarantee. */
  run(context: ConformanceContext): Promise<void>;
}
