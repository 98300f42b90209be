/**
 * `@annals/outbox/rabbitmq`: the RabbitMQ publisher of the outbox. Needs `amqplib`.
 *
 * @packageDocumentation
 */
export { RabbitMqPublisher, type RabbitMqPublisherOptions } from './rabbitmq-publisher.js';
