/**
 * @annals/outbox: publish integration messages made from the event log to a broker, at least once
 * and deduplicated by event id, through the projection runner's checkpoints, leases and failure
 * policy. The brokers live in subpaths: `@annals/outbox/nats` (JetStream) and
 * `@annals/outbox/rabbitmq` (AMQP 0-9-1), each needing its client as a peer dependency.
 *
 * @packageDocumentation
 */
export {
  defineIntegrationMessage,
  type IntegrationMessageDefinition,
  type IntegrationMessageOptions,
  type SourceEvent,
} from './define-integration-message.js';
export { CONFIRMED_IDS_KEPT, defineOutbox, type OutboxOptions } from './define-outbox.js';
export { BrokerUnavailable, IntegrationMessageInvalid } from './errors.js';
export { MESSAGE_HEADERS, type MessagePublisher, type OutgoingMessage } from './outgoing-message.js';
