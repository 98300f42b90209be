import type { EventMetadata, NewEvent } from '../events/event-types.js';
import type { Logger } from '../observability/logger.js';
import type { AppendResult, EventStore, SubscribeToStreamOptions } from './event-store.js';
import { type CallbackSubscription, deliverToCallback, type SubscriptionHandler } from './subscription.js';

/** An event for {@link publish}: a {@link NewEvent} whose metadata is optional. */
export type PublishEvent = NewEvent<string, unknown> & { readonly metadata?: EventMetadata };

/** Options of {@link subscribe}. */
export interface SubscribeOptions extends SubscribeToStreamOptions {
  /**
   * Receives the error that ended delivery (a handler's, or the subscription's). Without it the
   * error goes to `logger.error`. Either way `done` rejects with it.
   */
  readonly onError?: (error: unknown) => void;
  /** Where an error without `onError` is reported. Default: the store's `logger`, else `consoleLogger`. */
  readonly logger?: Logger;
}

/**
 * The simplest write: appends one event to `streamId` with expected revision `'any'`. Validates like
 * `append`. Every shipped store also has it as `store.publish(streamId, event)`.
 *
 * @example
 * ```ts
 * await publish(store, 'my-stream', { type: 'MyEvent', data: { text: 'Hello, world!' } });
 * ```
 */
export function publish(store: EventStore, streamId: string, event: PublishEvent): Promise<AppendResult> {
  return store.append(streamId, [event], { expectedRevision: 'any' });
}

/**
 * The simplest read: calls `handler` for every event of `streamId`, from the start (or
 * `options.fromRevision`), then live. Handlers run one at a time, in order; a handler error ends
 * delivery. Every shipped store also has it as `store.subscribe(streamId, handler, options)`.
 *
 * @example
 * ```ts
 * const subscription = subscribe(store, 'my-stream', (e) => console.log(e.id, e.type, e.data));
 * await subscription.stop();
 * ```
 */
export function subscribe(
  store: EventStore,
  streamId: string,
  handler: SubscriptionHandler,
  options: SubscribeOptions = {},
): CallbackSubscription {
  const logger = options.logger ?? (store as unknown as { readonly logger?: Logger }).logger;
  return deliverToCallback(store.subscribeToStream(streamId, options), handler, options.onError, logger);
}
