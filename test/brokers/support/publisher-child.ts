/**
 * A publisher process: runs the transfer outbox of `tag` on the store in `schema` (DATABASE_URL)
 * until it has caught up, then prints `{ "published": n }` (messages handed to the broker) and
 * exits. With `kill-mid-batch`, publishes the first half of its first batch (confirmed by the
 * broker), then kills itself with SIGKILL before the batch's checkpoint commits.
 *
 *   publisher-child.ts <schema> <tag> <nats|rabbitmq> <url> [kill-mid-batch]
 */
import 'reflect-metadata';
import { defineOutbox, type MessagePublisher, type OutgoingMessage } from '@annals/outbox';
import { NatsPublisher } from '@annals/outbox/nats';
import { RabbitMqPublisher } from '@annals/outbox/rabbitmq';
import { PostgresEventStore, PostgresProjectionRunner } from '@annals/postgres';
import { connect as natsConnect } from '@nats-io/transport-node';
import { connect as amqpConnect } from 'amqplib';
import { bankEvents } from '../../../examples/bank-account/src/domain/index.js';
import { transferMessages } from '../../../examples/bank-account/src/integration/transfer-messages.js';

const [schema, tag, broker, url, mode] = process.argv.slice(2) as [string, string, string, string, string?];
const store = await PostgresEventStore.create(
  { connectionString: process.env.DATABASE_URL! },
  { schema, events: bankEvents },
);
const nc = broker === 'nats' ? await natsConnect({ servers: url }) : undefined;
const inner: MessagePublisher & { close?: () => Promise<void> } =
  nc !== undefined
    ? new NatsPublisher({ connection: nc })
    : new RabbitMqPublisher({ connect: () => amqpConnect(url), exchange: '' });

let published = 0;
const publisher: MessagePublisher = {
  broker: inner.broker,
  async publish(messages: readonly OutgoingMessage[]) {
    if (mode === 'kill-mid-batch') {
      await inner.publish(messages.slice(0, Math.ceil(messages.length / 2)));
      process.kill(process.pid, 'SIGKILL');
    }
    await inner.publish(messages);
    published += messages.length;
  },
};
const runner = new PostgresProjectionRunner({
  store,
  projections: [
    defineOutbox({
      name: `${broker}-${tag}`,
      messages: transferMessages(tag),
      publisher,
      streamPrefix: `Transfer-${tag}-`,
    }),
  ],
  // A killed process's lease moves to the restarted one this soon.
  leaseTtlMs: 1500,
  batchSize: 40,
  logger: { warn: () => {}, error: (message) => console.error(message) },
});
await runner.start();
await runner.waitUntilCaughtUp();
await runner.stop();
console.log(JSON.stringify({ published }));
await inner.close?.();
await nc?.close();
await store.close();
