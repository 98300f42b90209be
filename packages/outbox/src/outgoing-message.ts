/**
 * An integration message ready for a broker: made from one event by its
 * {@link IntegrationMessageDefinition}, never from the stored payload directly.
 */
export interface OutgoingMessage {
  /** The id of the event it was made from: the broker's deduplication key (`Nats-Msg-Id`, `messageId`). */
  readonly id: string;
  /** The message's name (its type, as consumers know it). */
  readonly name: string;
  /** The version of the message's contract. */
  readonly version: number;
  /** The NATS subject, or the RabbitMQ routing key. */
  readonly subject: string;
  /** The payload, as validated by the message's schema. */
  readonly payload: unknown;
  /** The payload as JSON, in UTF-8: the message body. */
  readonly body: Uint8Array;
  /** Headers for the consumer (see {@link MESSAGE_HEADERS}). */
  readonly headers: Readonly<Record<string, string>>;
  /** The stream of the event, and its place there and in the log. */
  readonly streamId: string;
  readonly revision: bigint;
  readonly position: bigint;
}

/** The headers every outgoing message carries (correlation and causation when the event has them). */
export const MESSAGE_HEADERS = Object.freeze({
  name: 'Annals-Message',
  version: 'Annals-Message-Version',
  eventType: 'Annals-Event-Type',
  streamId: 'Annals-Stream-Id',
  revision: 'Annals-Stream-Revision',
  position: 'Annals-Position',
  correlationId: 'Annals-Correlation-Id',
  causationId: 'Annals-Causation-Id',
});

/**
 * Publishes integration messages to a broker and resolves once the broker has confirmed every one
 * (stored them durably). Messages are published in the order given; a message id seen again within
 * the broker's (or the consumer's) deduplication window must not be delivered twice. Throws
 * `BrokerUnavailable` when the broker does not confirm: the outbox then publishes the batch again.
 */
export interface MessagePublisher {
  /** Which broker, for messages: `'nats'`, `'rabbitmq'`, ... */
  readonly broker: string;
  publish(messages: readonly OutgoingMessage[]): Promise<void>;
}
