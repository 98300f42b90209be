import { fileURLToPath } from 'node:url';
import { hasErrorCode } from '@annals/core';
import { defineIntegrationMessage, defineOutbox } from '@annals/outbox';
import { RabbitMqPublisher } from '@annals/outbox/rabbitmq';
import { PostgresInbox, PostgresProjectionRunner } from '@annals/postgres';
import { connect } from 'amqplib';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { TransferStarted } from '../../examples/bank-account/src/domain/index.js';
import { transferMessages } from '../../examples/bank-account/src/integration/transfer-messages.js';
import { databaseUrl, useTestDatabase } from '../postgres/support/test-database.js';
import { silent, waitFor } from '../support/projection-read-model.js';
import { outcomeOf, spawnTsx } from '../support/spawn-tsx.js';
import { canStartRabbitMqNode, OwnRabbitMqNode } from './support/rabbitmq-node.js';
import { createQueue, type QueuedMessage, SHARED_AMQP_URL } from './support/rabbitmq-queue.js';
import { appendTransfers, orderPerStream, uniqueTag } from './support/transfers.js';

const db = useTestDatabase('amqp');

/** What a consumer that deduplicates by messageId keeps: each message's first delivery. */
function deduplicated(messages: readonly QueuedMessage[]): QueuedMessage[] {
  const seen = new Set<string>();
  return messages.filter((m) => !seen.has(m.messageId!) && seen.add(m.messageId!));
}
const target = databaseUrl === undefined ? 'pglite' : 'server';
const publisherChild = fileURLToPath(new URL('./support/publisher-child.ts', import.meta.url));

/**
 * A store, a durable queue `<tag>.started` of the test's own (the default exchange routes each
 * message to the queue named by its routing key, the message's subject), and an outbox to it.
 */
async function setup(url: string, options: { queue?: boolean } = {}) {
  const tag = uniqueTag();
  const store = await db.open(target);
  const queue = options.queue === false ? undefined : await createQueue(url, `${tag}.started`);
  const publishers: RabbitMqPublisher[] = [];
  const outbox = (name = `amqp-${tag}`, messages = transferMessages(tag)) => {
    const publisher = new RabbitMqPublisher({ connect: () => connect(url), exchange: '' });
    publishers.push(publisher);
    return defineOutbox({
      name,
      messages,
      publisher,
      streamPrefix: `Transfer-${tag}-`,
      batchSize: 20,
      failure: { retries: 1, backoff: { initialDelayMs: 1, maxDelayMs: 5 }, onExhausted: 'dead-letter' },
    });
  };
  const runner = (projection = outbox()) =>
    new PostgresProjectionRunner({ store, projections: [projection], logger: silent });
  const close = async () => {
    for (const p of publishers) await p.close();
    await queue?.remove();
  };
  return { tag, store, queue, outbox, runner, close };
}

describe('the outbox on RabbitMQ (shared broker)', () => {
  it('publishes the mapped message of each matching event once, in log order: persistent, messageId = event id, confirmed', async () => {
    const { tag, store, queue, runner: makeRunner, close } = await setup(SHARED_AMQP_URL);
    const expected = await appendTransfers(store, tag, 3, 4);
    const runner = makeRunner();
    await runner.start();
    await runner.waitUntilCaughtUp();
    await runner.stop();
    // The checkpoint moved after the confirms: everything is in the queue now.
    const taken = await queue!.drain();
    expect(taken.map((m) => m.messageId)).toEqual(expected.map((e) => e.id));
    expect(taken.map((m) => m.payload)).toEqual(expected.map((e) => e.payload));
    expect(taken.every((m) => m.persistent && m.routingKey === `${tag}.started`)).toBe(true);
    expect(new Set(taken.map((m) => `${m.type} ${m.contentType}`))).toEqual(
      new Set(['bank.transfer-started application/json']),
    );
    await close();
  });

  it('a message no queue takes is not confirmed as published: the outbox waits until a queue is bound', async () => {
    const { tag, store, runner: makeRunner, close } = await setup(SHARED_AMQP_URL, { queue: false });
    const expected = await appendTransfers(store, tag, 2, 3);
    const runner = makeRunner();
    await runner.start();
    await waitFor(() => {
      const error = runner.status()[0]!.lastError?.error;
      return (
        hasErrorCode(error, 'BROKER_UNAVAILABLE') && /no queue is bound/.test(String((error as Error).cause))
      );
    }, 'the outbox to report the unroutable message');
    expect(runner.status()[0]!.position, 'the checkpoint did not move past unrouted messages').toBe(0n);
    const queue = await createQueue(SHARED_AMQP_URL, `${tag}.started`);
    await runner.waitUntilCaughtUp();
    await runner.stop();
    // A batch cut by the queue's creation (some messages routed, some returned) is sent again whole:
    // its routed part arrives twice, and once after deduplication, in order.
    const taken = await queue.drain();
    expect(deduplicated(taken).map((m) => m.messageId)).toEqual(expected.map((e) => e.id));
    await queue.remove();
    await close();
  });

  it('an event whose mapping throws is dead-lettered; the others are published, in order', async () => {
    const { tag, store, queue, runner: makeRunner, outbox, close } = await setup(SHARED_AMQP_URL);
    const poisonous = defineIntegrationMessage({
      name: 'bank.transfer-started',
      version: 1,
      event: TransferStarted,
      schema: z.object({ transferId: z.string(), amountCents: z.number().max(2) }),
      subject: `${tag}.started`,
      // Amounts above 2 break the message's schema.
      map: (e) => ({ transferId: e.data.transferId, amountCents: e.data.amount.value }),
    });
    const expected = await appendTransfers(store, tag, 2, 4);
    const runner = makeRunner(outbox(`amqp-${tag}`, [poisonous]));
    await runner.start();
    await runner.waitUntilCaughtUp();
    await runner.stop();
    const poison = expected.filter((e) => Number(e.payload.amountCents) > 2);
    const letters = await runner.deadLetters.list(`amqp-${tag}`);
    expect(letters.map((l) => l.eventId)).toEqual(poison.map((e) => e.id));
    expect(letters[0]!.error).toContain('does not match the schema of version 1');
    const taken = await queue!.drain();
    expect(taken.map((m) => m.messageId)).toEqual(
      expected.filter((e) => Number(e.payload.amountCents) <= 2).map((e) => e.id),
    );
    await close();
  });
});

describe.skipIf(!canStartRabbitMqNode())(
  'the outbox on a RabbitMQ node that goes away (a node of its own)',
  () => {
    it('while the node is down events are appended; once it is back everything arrives, once after dedup, in order per stream', async () => {
      const node = await OwnRabbitMqNode.start();
      try {
        const { tag, store, queue, runner: makeRunner, close } = await setup(node.url);
        const expected = await appendTransfers(store, tag, 3, 3);
        const runner = makeRunner();
        await runner.start();
        await runner.waitUntilCaughtUp();
        // What was confirmed before the kill is taken now: RabbitMQ 3.10 can lose a durable queue
        // declared shortly before a SIGKILL (5 of 30 kills within a second of the declaration; none of
        // 20 three seconds after), and what the broker keeps through a crash is not the outbox's to prove.
        const beforeKill = await queue!.drain();
        expect(
          beforeKill.map((m) => m.messageId),
          'confirmed before the kill',
        ).toEqual(expected.map((e) => e.id));
        await node.kill();
        expected.push(...(await appendTransfers(store, tag, 3, 10, 3)));
        await waitFor(
          () => hasErrorCode(runner.status()[0]!.lastError?.error, 'BROKER_UNAVAILABLE'),
          'the outbox to meet the missing node',
        );
        expect(runner.status()[0]!.state, 'a broker outage never fails the outbox').not.toBe('failed');
        await node.restart();
        // Declared again (a no-op when the node kept it); until then the outbox's messages are returned
        // unrouted, unconfirmed, and sent again.
        const again = await createQueue(node.url, `${tag}.started`);
        // Bounded only so that a hang names what it waited for, with the runner's state and the node's log.
        await runner
          .waitUntilCaughtUp(undefined, { signal: AbortSignal.timeout(150_000) })
          .catch(async (error) => {
            const status = runner.status()[0];
            throw new Error(
              `the outbox did not catch up after the node came back (state ${status?.state}, last error ${String(status?.lastError?.error)}); the node's log ends:\n${await node.logTail()}`,
              { cause: error },
            );
          });
        await runner.stop();
        const once = deduplicated([...beforeKill, ...(await again.drain())]);
        expect(once.map((m) => m.messageId).sort(), 'every event, once after dedup').toEqual(
          expected.map((e) => e.id).sort(),
        );
        expect(orderPerStream(once)).toEqual(orderPerStream(expected));
        await again.remove();
        await queue?.remove().catch(() => {});
        await close().catch(() => {});
      } finally {
        await node.remove();
      }
    });
  },
);

describe.skipIf(databaseUrl === undefined)(
  'a publisher process killed mid-batch, with an inbox consumer (server)',
  () => {
    it('after SIGKILL and a restart nothing is lost; the repeats RabbitMQ delivers have no second effect in the inbox', async () => {
      const { tag, store, queue, close } = await setup(SHARED_AMQP_URL);
      const expected = await appendTransfers(store, tag, 4, 15);
      const args = [store.schema, tag, 'rabbitmq', SHARED_AMQP_URL];
      const killed = await outcomeOf(spawnTsx(publisherChild, [...args, 'kill-mid-batch']));
      expect(killed.signal, `the publisher was killed mid-batch (stderr: ${killed.stderr})`).toBe('SIGKILL');
      const before = await queue!.count();
      expect(before, 'part of the first batch was confirmed before the kill').toBeGreaterThan(0);
      const restarted = await outcomeOf(spawnTsx(publisherChild, args));
      expect(restarted.code, `the restarted publisher caught up (stderr: ${restarted.stderr})`).toBe(0);

      // A consumer with an inbox: one effect per message id, whatever RabbitMQ delivers twice.
      const effects = sql.id(store.schema, 'received_transfers');
      await sql`create table ${effects} (transfer_id text not null)`.execute(store.kysely);
      const delivered = await queue!.drain();
      expect(delivered.length, 'the confirmed half arrived twice').toBe(expected.length + before);
      // #region inbox
      const inbox = new PostgresInbox(store, { consumer: 'transfers' });
      for (const message of delivered) {
        // The record of the message id and the effects commit together; a repeat changes nothing.
        await inbox.handle(message.messageId!, async (tx) => {
          await sql`insert into ${effects} values (${String(message.payload.transferId)})`.execute(tx);
        });
      }
      // #endregion inbox
      const rows = (
        await sql<{ transfer_id: string }>`select transfer_id from ${effects}`.execute(store.kysely)
      ).rows;
      expect(rows.map((r) => r.transfer_id).sort()).toEqual(
        expected.map((e) => String(e.payload.transferId)).sort(),
      );
      await close();
    });
  },
);
