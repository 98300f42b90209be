import { MESSAGE_HEADERS } from '@annals/outbox';
import { type ChannelModel, connect, type GetMessage } from 'amqplib';

/** The shared RabbitMQ broker of the normal cases. */
export const SHARED_AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

/** A message as a test consumer got it from a queue. */
export interface QueuedMessage {
  readonly messageId: string | undefined;
  readonly routingKey: string;
  readonly persistent: boolean;
  readonly type: string | undefined;
  readonly contentType: string | undefined;
  readonly streamId: string;
  readonly payload: Record<string, unknown>;
  readonly raw: GetMessage;
}

/** A durable queue of a test's own on `url`, read with basic.get, deleted by `remove`. */
export async function createQueue(url: string, name: string) {
  const model: ChannelModel = await connect(url);
  // A node the test kills closes this connection with an error: an unheard 'error' would be thrown.
  model.on('error', () => {});
  const channel = await model.createChannel();
  channel.on('error', () => {});
  await channel.assertQueue(name, { durable: true });
  const toMessage = (m: GetMessage): QueuedMessage => ({
    messageId: m.properties.messageId,
    routingKey: m.fields.routingKey,
    persistent: m.properties.deliveryMode === 2,
    type: m.properties.type,
    contentType: m.properties.contentType,
    streamId: String(m.properties.headers?.[MESSAGE_HEADERS.streamId] ?? ''),
    payload: JSON.parse(m.content.toString('utf8')),
    raw: m,
  });
  return {
    /** Takes every message the queue holds now (acknowledged), in queue order. */
    async drain(): Promise<QueuedMessage[]> {
      const taken: QueuedMessage[] = [];
      for (;;) {
        const m = await channel.get(name, { noAck: true });
        if (m === false) return taken;
        taken.push(toMessage(m));
      }
    },
    /** How many messages the queue holds. */
    async count(): Promise<number> {
      return (await channel.checkQueue(name)).messageCount;
    },
    async remove(): Promise<void> {
      await channel.deleteQueue(name).catch(() => {});
      await model.close().catch(() => {});
    },
  };
}
