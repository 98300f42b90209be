import {
  type AnyEventDefinition,
  defineProjection,
  hasErrorCode,
  InvalidArgument,
  type Projection,
  type ProjectionFailurePolicy,
} from '@annals/core';
import type { IntegrationMessageDefinition } from './define-integration-message.js';
import type { MessagePublisher } from './outgoing-message.js';
import { RecentIds } from './recent-ids.js';

/** How many confirmed message ids an outbox remembers, to skip them when a batch is retried. */
export const CONFIRMED_IDS_KEPT = 10_000;

/** Options of {@link defineOutbox}. */
export interface OutboxOptions {
  /** Unique name: it keys the outbox's checkpoint and lease, like a projection's. */
  readonly name: string;
  /** What is published: one integration message per event type; events of other types are not read. */
  readonly messages: readonly IntegrationMessageDefinition[];
  /** Where it is published (`NatsPublisher`, `RabbitMqPublisher`, or your own). */
  readonly publisher: MessagePublisher;
  /** Publish only the events of streams whose id starts with this prefix. Default: every stream. */
  readonly streamPrefix?: string;
  /** Events per batch: one publish round and one checkpoint write per batch. Default: the runner's. */
  readonly batchSize?: number;
  /**
   * What happens to an event whose message cannot be made (a poison event): retries, then `'stop'`
   * (default) or `'dead-letter'` (recorded in the runner's dead-letter store, the outbox goes on).
   * A broker that does not confirm is never such a failure: it is retried for as long as it lasts.
   */
  readonly failure?: ProjectionFailurePolicy;
  /**
   * Split the outbox into this many shards by stream id, each with its own checkpoint and lease.
   * Order is kept within a stream. Default 1.
   */
  readonly shards?: number;
}

/**
 * Defines an outbox: a projection that turns the events of the log (of the messages' event types,
 * optionally of the streams under `streamPrefix`) into integration messages and publishes them,
 * batch by batch. Run it in a `ProjectionRunner` (on PostgreSQL, `PostgresProjectionRunner`) like
 * any projection: it gets the runner's checkpoint, lease, retry and dead-letter machinery. Its
 * checkpoint moves past a batch only after the broker confirmed every message of it, so a crash or
 * a broker outage publishes a batch again: at least once, and exactly once to a consumer that
 * deduplicates by message id (the event id; JetStream does so itself within its duplicate window).
 * Within one process, the ids of the last {@link CONFIRMED_IDS_KEPT} confirmed messages are not sent
 * again when the runner retries a batch (around a poison event, after a failed commit).
 *
 * @example
 * ```ts
 * const outbox = defineOutbox({
 *   name: 'bank-to-nats',
 *   messages: [TransferCompletedMessage],
 *   publisher: new NatsPublisher({ connection: nc }),
 *   failure: { retries: 3, onExhausted: 'dead-letter' },
 * });
 * const runner = new PostgresProjectionRunner({ store, projections: [outbox] });
 * await runner.start();
 * ```
 */
export function defineOutbox(options: OutboxOptions): Projection<unknown> {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgument(`defineOutbox expects an options object, found ${String(options)}.`);
  }
  const { name, messages, publisher } = options;
  if (!Array.isArray(messages) || messages.length === 0) {
    throw new InvalidArgument(
      `defineOutbox(${JSON.stringify(name)}) expects messages to list at least one integration message, found ${String(messages)}.`,
    );
  }
  const byType = new Map<string, IntegrationMessageDefinition>();
  for (const message of messages) {
    if (typeof message?.toMessage !== 'function') {
      throw new InvalidArgument(
        `defineOutbox(${JSON.stringify(name)}) expects messages made by defineIntegrationMessage, found ${String(message)}.`,
      );
    }
    const other = byType.get(message.eventType);
    if (other !== undefined) {
      throw new InvalidArgument(
        `defineOutbox(${JSON.stringify(name)}) has two messages for event type ${message.eventType} (${other.name} and ${message.name}); the message id is the event id, so one event makes one message per outbox.`,
      );
    }
    byType.set(message.eventType, message);
  }
  if (typeof publisher?.publish !== 'function') {
    throw new InvalidArgument(
      `defineOutbox(${JSON.stringify(name)}) expects a publisher (NatsPublisher, RabbitMqPublisher, or a MessagePublisher), found ${String(publisher)}.`,
    );
  }
  // The projection filters the log by type; only `type` of each definition is read.
  const events = [...byType.keys()].map((type) => ({ type }) as AnyEventDefinition);
  // A batch the runner applies again in this process (cut up around a poison event, or after a
  // failed commit) does not send what the broker already confirmed. A new process sends it again.
  const confirmed = new RecentIds(CONFIRMED_IDS_KEPT);
  return defineProjection({
    name,
    events,
    // Every message of the batch is made before any is published: a poison event publishes nothing.
    handleBatch: async (batch) => {
      const outgoing = batch.map((event) => byType.get(event.type)!.toMessage(event));
      const fresh = outgoing.filter((message) => !confirmed.has(message.id));
      if (fresh.length > 0) await publisher.publish(fresh);
      for (const message of fresh) confirmed.add(message.id);
    },
    isTransient: (error) => hasErrorCode(error, 'BROKER_UNAVAILABLE'),
    ...(options.streamPrefix === undefined ? {} : { streamPrefix: options.streamPrefix }),
    ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
    ...(options.failure === undefined ? {} : { failure: options.failure }),
    ...(options.shards === undefined ? {} : { shards: options.shards }),
  });
}
