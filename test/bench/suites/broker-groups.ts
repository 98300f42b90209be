import type { EventStore } from '@annals/core';
import { defineIntegrationMessage, defineOutbox, type OutgoingMessage } from '@annals/outbox';
import { NatsPublisher } from '@annals/outbox/nats';
import { RabbitMqPublisher } from '@annals/outbox/rabbitmq';
import { type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { type NatsConnection, connect as natsConnect, headers as natsHeaders } from '@nats-io/transport-node';
import { connect as amqpConnect, type ChannelModel } from 'amqplib';
import { z } from 'zod';
import type { ProjectionRunnerFactory } from '../backends/store-backend.js';
import { type BenchGroup, type BuiltGroup, type GroupContext, unavailableFigure } from '../harness/group.js';
import { errorText } from '../harness/measure.js';
import { timeOnce } from '../harness/timing.js';
import type { MeasurementSpec } from '../harness/types.js';
import { uniqueName } from '../harness/unique.js';
import { BenchDeposited, deposits } from '../workload/bench-events.js';

/** Events per outbox batch, and messages per confirm round of the RabbitMQ baseline. */
const BATCH = 500;
/** Messages in flight on NATS before waiting for their acknowledgements (the publisher's default). */
const IN_FLIGHT = 256;
const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

export const BrokerIds = {
  natsOutbox: 'outbox.nats.publish',
  natsClient: 'baseline.nats.publish',
  amqpOutbox: 'outbox.rabbitmq.publish',
  amqpClient: 'baseline.rabbitmq.publish',
} as const;

/** The integration message of a bench deposit on `subject`: the event's fields, mapped one by one. */
function depositMessage(subject: string) {
  return defineIntegrationMessage({
    name: 'bench.deposited',
    version: 1,
    event: BenchDeposited,
    schema: z.object({
      accountId: z.string(),
      amount: z.number().int(),
      currency: z.string(),
      note: z.string(),
    }),
    subject,
    map: (e) => ({
      accountId: e.data.accountId,
      amount: e.data.amount,
      currency: e.data.currency,
      note: e.data.note,
    }),
  });
}

/**
 * The messages the outbox publishes for the seeded events, made once: the baselines send the same
 * bodies and headers with the broker's client alone.
 */
async function seededMessages(store: EventStore, count: number): Promise<OutgoingMessage[]> {
  const message = depositMessage('bench');
  const made: OutgoingMessage[] = [];
  for await (const event of store.readAll({ filter: { types: [BenchDeposited.type] } })) {
    made.push(message.toMessage(event));
    if (made.length === count) break;
  }
  return made;
}

interface Broker {
  readonly name: 'nats' | 'rabbitmq';
  /** A fresh destination for one round (a stream or a queue), removed after it. */
  destination(): Promise<{ readonly subject: string; remove(): Promise<void> }>;
  /** The outbox's publisher. */
  publisher(): NatsPublisher | RabbitMqPublisher;
  /** The client alone: publishes `messages` to `subject` in the outbox's confirm mode. */
  publishAlone(subject: string, messages: readonly OutgoingMessage[]): Promise<void>;
  close(): Promise<void>;
}

async function natsBroker(): Promise<Broker> {
  const nc: NatsConnection = await natsConnect({ servers: NATS_URL });
  const jsm: JetStreamManager = await jetstreamManager(nc);
  const js = jetstream(nc);
  return {
    name: 'nats',
    async destination() {
      const name = uniqueName('BENCH').replace('-', '_');
      await jsm.streams.add({ name, subjects: [`${name}.>`], storage: 'file' } as never);
      return { subject: `${name}.deposited`, remove: () => jsm.streams.delete(name).then(() => {}) };
    },
    publisher: () => new NatsPublisher({ connection: nc, maxInFlight: IN_FLIGHT }),
    async publishAlone(subject, messages) {
      for (let start = 0; start < messages.length; start += IN_FLIGHT) {
        const window = messages.slice(start, start + IN_FLIGHT);
        await Promise.all(
          window.map((m) => {
            const h = natsHeaders();
            for (const [key, value] of Object.entries(m.headers)) h.set(key, value);
            return js.publish(subject, m.body, { msgID: m.id, headers: h });
          }),
        );
      }
    },
    close: () => nc.close(),
  };
}

async function rabbitBroker(): Promise<Broker> {
  const model: ChannelModel = await amqpConnect(AMQP_URL);
  model.on('error', () => {});
  const admin = await model.createChannel();
  const channel = await model.createConfirmChannel();
  return {
    name: 'rabbitmq',
    async destination() {
      const queue = uniqueName('bench-queue');
      await admin.assertQueue(queue, { durable: true });
      return { subject: queue, remove: () => admin.deleteQueue(queue).then(() => {}) };
    },
    publisher: () => new RabbitMqPublisher({ connect: () => amqpConnect(AMQP_URL), exchange: '' }),
    async publishAlone(queue, messages) {
      for (let start = 0; start < messages.length; start += BATCH) {
        for (const m of messages.slice(start, start + BATCH)) {
          channel.publish('', queue, Buffer.from(m.body), {
            messageId: m.id,
            type: m.name,
            contentType: 'application/json',
            persistent: true,
            mandatory: true,
            headers: m.headers,
          });
        }
        await channel.waitForConfirms();
      }
    },
    close: () => model.close(),
  };
}

function specs(
  ctx: GroupContext,
  broker: Broker,
  store: EventStore,
  makeRunner: Extract<ProjectionRunnerFactory, Function>,
  messages: () => Promise<readonly OutgoingMessage[]>,
): MeasurementSpec[] {
  const count = ctx.sizes.catchUpEvents;
  const events = count.toLocaleString('en-US');
  const ids =
    broker.name === 'nats'
      ? { outbox: BrokerIds.natsOutbox, client: BrokerIds.natsClient }
      : { outbox: BrokerIds.amqpOutbox, client: BrokerIds.amqpClient };
  const mode =
    broker.name === 'nats'
      ? `JetStream file stream, Nats-Msg-Id, ${IN_FLIGHT} acks in flight`
      : `confirm channel, persistent, durable queue, confirms every ${BATCH}`;
  const client: MeasurementSpec = {
    id: ids.client,
    backend: ctx.backend.name,
    kind: 'baseline',
    title: `${broker.name} client alone: ${events} messages (${mode})`,
    unit: 'msgs/s',
    operation: `publish of ${events} messages`,
    round: async () => {
      const all = await messages();
      const destination = await broker.destination();
      try {
        return await timeOnce(async () => {
          await broker.publishAlone(destination.subject, all);
          return all.length;
        });
      } finally {
        await destination.remove();
      }
    },
  };
  const outbox: MeasurementSpec = {
    id: ids.outbox,
    backend: ctx.backend.name,
    kind: 'annals',
    title: `outbox to ${broker.name}: ${events} events from the log, confirmed (${mode}), batches of ${BATCH}`,
    unit: 'events/s',
    operation: `catch-up of ${events} events`,
    compareWith: [{ id: ids.client, backend: ctx.backend.name }],
    round: async () => {
      await messages(); // seeded by then
      const destination = await broker.destination();
      const publisher = broker.publisher();
      const projection = defineOutbox({
        name: uniqueName(`bench-outbox-${broker.name}`),
        messages: [depositMessage(destination.subject)],
        publisher,
      });
      const runner = makeRunner({ store, projections: [projection], batchSize: BATCH });
      try {
        return await timeOnce(async () => {
          await runner.start();
          await runner.waitUntilCaughtUp();
          return count;
        });
      } finally {
        await runner.stop();
        if (publisher instanceof RabbitMqPublisher) await publisher.close();
        await destination.remove();
      }
    },
  };
  return [client, outbox];
}

/**
 * Publish throughput through the outbox (events read from the log, mapped, published, confirmed,
 * checkpointed) next to the broker's client alone publishing the same messages in the same
 * confirm mode, in the same run: NATS JetStream and RabbitMQ.
 */
export const brokerPublish: BenchGroup = {
  name: 'brokers',
  backends: ['pglite', 'server'],
  maxRounds: 3,
  maxWarmupRounds: 1,
  async build(ctx): Promise<BuiltGroup> {
    const { backend, sizes } = ctx;
    const placeholders = (name: string) => [
      {
        id: `outbox.${name}.publish`,
        backend: backend.name,
        title: `outbox to ${name}`,
        unit: 'events/s',
        operation: 'publish',
      },
      {
        id: `baseline.${name}.publish`,
        backend: backend.name,
        title: `${name} client alone`,
        unit: 'msgs/s',
        operation: 'publish',
      },
    ];
    if (typeof backend.openStore !== 'function' || typeof backend.projectionRunner !== 'function') {
      const reason =
        typeof backend.openStore !== 'function' ? backend.openStore.unavailable : 'no projection runner';
      return {
        specs: [],
        unavailable: [...placeholders('nats'), ...placeholders('rabbitmq')].map((p) =>
          unavailableFigure(p, reason),
        ),
      };
    }
    const store = await backend.openStore();
    let seeding: Promise<OutgoingMessage[]> | undefined;
    const messages = () => {
      seeding ??= (async () => {
        for (let i = 0; i < sizes.catchUpEvents; i += sizes.batchSize) {
          const size = Math.min(sizes.batchSize, sizes.catchUpEvents - i);
          await store.append(uniqueName('outbox'), deposits(i, size, 1_000));
        }
        return seededMessages(store, sizes.catchUpEvents);
      })();
      return seeding;
    };
    const brokers: Broker[] = [];
    const unavailable = [];
    for (const [name, open] of [
      ['nats', natsBroker],
      ['rabbitmq', rabbitBroker],
    ] as const) {
      try {
        brokers.push(await open());
      } catch (error) {
        unavailable.push(
          ...placeholders(name).map((p) => unavailableFigure(p, `no broker: ${errorText(error)}`)),
        );
      }
    }
    return {
      specs: brokers.flatMap((broker) =>
        specs(ctx, broker, store, backend.projectionRunner as never, messages),
      ),
      unavailable,
      close: async () => {
        for (const broker of brokers) await broker.close().catch(() => {});
        await store.close();
      },
    };
  },
};
