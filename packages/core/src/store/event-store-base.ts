import type { NewEvent, RecordedEvent } from '../events/event-types.js';
import { consoleLogger, type Logger } from '../observability/logger.js';
import type {
  AppendOptions,
  AppendResult,
  CloseOptions,
  EventStore,
  EventStoreCapabilities,
  ReadAllOptions,
  ReadStreamOptions,
  SubscribeToAllOptions,
  SubscribeToStreamOptions,
} from './event-store.js';
import { type PublishEvent, publish, type SubscribeOptions, subscribe } from './publish-subscribe.js';
import type { CallbackSubscription, Subscription, SubscriptionHandler } from './subscription.js';

/** Options every {@link EventStoreBase} takes (a store passes them on from its own options). */
export interface EventStoreBaseOptions {
  /** Where the store logs (pino's shape). Default {@link consoleLogger}: errors on the console. */
  readonly logger?: Logger;
}

/**
 * What an adapter extends: it implements the {@link EventStore} port and gets `publish` and
 * `subscribe`, the callback sugar users call on every store, written once over the port.
 *
 * @example
 * ```ts
 * export class MyEventStore extends EventStoreBase {
 *   readonly capabilities = defaultCapabilities;
 *   async append(streamId, events, options) { ... }
 *   // readStream, readAll, subscribeToStream, subscribeToAll, close
 * }
 * ```
 */
export abstract class EventStoreBase implements EventStore {
  abstract readonly capabilities: EventStoreCapabilities;
  /**
   * Where the store reports what no caller would see: a `subscribe` callback that failed without an
   * `onError`. Default {@link consoleLogger}.
   */
  readonly logger: Logger;

  constructor(options: EventStoreBaseOptions = {}) {
    this.logger = options.logger ?? consoleLogger;
  }

  abstract append(
    streamId: string,
    events: readonly NewEvent[],
    options?: AppendOptions,
  ): Promise<AppendResult>;
  abstract readStream(streamId: string, options?: ReadStreamOptions): AsyncIterable<RecordedEvent>;
  abstract readAll(options?: ReadAllOptions): AsyncIterable<RecordedEvent>;
  abstract subscribeToStream(streamId: string, options?: SubscribeToStreamOptions): Subscription;
  abstract subscribeToAll(options?: SubscribeToAllOptions): Subscription;
  abstract close(options?: CloseOptions): Promise<void>;

  /** The simplest write: appends one event with expected revision `'any'`. See {@link publish}. */
  publish(streamId: string, event: PublishEvent): Promise<AppendResult> {
    return publish(this, streamId, event);
  }

  /**
   * The simplest read: calls `handler` for every event of the stream, from the start, then live,
   * one at a time, in order. See {@link subscribe}.
   */
  subscribe(
    streamId: string,
    handler: SubscriptionHandler,
    options?: SubscribeOptions,
  ): CallbackSubscription {
    return subscribe(this, streamId, handler, options);
  }
}
