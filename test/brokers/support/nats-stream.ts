import { MESSAGE_HEADERS } from '@annals/outbox';
import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';

/** A message as a JetStream stream stored it. */
export interface StoredMessage {
  readonly seq: number;
  readonly subject: string;
  readonly msgId: string | undefined;
  readonly streamId: string;
  readonly name: string;
  readonly payload: Record<string, unknown>;
}

/** A connection that reconnects for ever (a restarted server is found again). */
export function connectNats(url: string): Promise<NatsConnection> {
  return connect({ servers: url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
}

/** A JetStream stream of its own on `subjects` (memory or file storage), deleted by `remove`. */
export async function createStream(nc: NatsConnection, name: string, subjects: string[], file = false) {
  const jsm: JetStreamManager = await jetstreamManager(nc);
  await jsm.streams.add({ name, subjects, storage: file ? 'file' : 'memory' } as never);
  return {
    /** Every message the stream holds, in stream order. */
    async messages(): Promise<StoredMessage[]> {
      const manager = await jetstreamManager(nc);
      const info = await manager.streams.info(name);
      const stored: StoredMessage[] = [];
      for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
        const m = await manager.streams.getMessage(name, { seq });
        if (m === null) continue;
        stored.push({
          seq: m.seq,
          subject: m.subject,
          msgId: m.header?.get('Nats-Msg-Id') || undefined,
          streamId: m.header?.get(MESSAGE_HEADERS.streamId) ?? '',
          name: m.header?.get(MESSAGE_HEADERS.name) ?? '',
          payload: m.json<Record<string, unknown>>(),
        });
      }
      return stored;
    },
    /** How many messages the stream holds. */
    async count(): Promise<number> {
      return (await (await jetstreamManager(nc)).streams.info(name)).state.messages;
    },
    async remove(): Promise<void> {
      await (await jetstreamManager(nc)).streams.delete(name).catch(() => false);
    },
  };
}
