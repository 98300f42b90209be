/**
 * `@annals/outbox/nats`: the NATS JetStream publisher of the outbox. Needs `@nats-io/transport-node`
 * and `@nats-io/jetstream`.
 *
 * @packageDocumentation
 */
export { NatsPublisher, type NatsPublisherOptions } from './nats-publisher.js';
