import { type EventStore, InMemoryCheckpointStore, ProjectionRunner } from '@annals/core';
import { defineOutbox } from '@annals/outbox';
import { NatsPublisher } from '@annals/outbox/nats';
import { type PostgresEventStore, PostgresProjectionRunner } from '@annals/postgres';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { transferMessages } from './transfer-messages.js';

/** The JetStream stream the example publishes its transfers to, and the outbox's name. */
export const TRANSFER_STREAM = 'BANK_TRANSFERS';
export const TRANSFER_OUTBOX = 'bank-transfers-to-nats';

// #region outbox
/**
 * Publishes the bank's transfers to NATS JetStream at `url` (stream BANK_TRANSFERS, subjects
 * `bank.transfers.*`, created when missing) through an outbox: on PostgreSQL its checkpoint lives
 * beside the events, so a restart resumes where it stopped and JetStream drops the repeats.
 */
export async function startTransferOutbox(
  url: string,
  store: EventStore,
  pg: PostgresEventStore | undefined,
) {
  const nc = await connect({ servers: url, maxReconnectAttempts: -1 });
  const jsm = await jetstreamManager(nc);
  await jsm.streams
    .info(TRANSFER_STREAM)
    .catch(() => jsm.streams.add({ name: TRANSFER_STREAM, subjects: ['bank.transfers.>'] }));
  const outbox = defineOutbox({
    name: TRANSFER_OUTBOX,
    messages: transferMessages('bank.transfers'),
    publisher: new NatsPublisher({ connection: nc }),
    streamPrefix: 'Transfer-',
    failure: { retries: 3, onExhausted: 'dead-letter' },
  });
  const runner =
    pg === undefined
      ? new ProjectionRunner({ store, projections: [outbox], checkpoints: new InMemoryCheckpointStore() })
      : new PostgresProjectionRunner({ store: pg, projections: [outbox] });
  return { runner, close: () => nc.close() };
}
// #endregion outbox
