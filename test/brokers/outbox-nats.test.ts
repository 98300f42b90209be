import { fileURLToPath } from 'node:url';
import { hasErrorCode } from '@annals/core';
import { defineIntegrationMessage, defineOutbox, MESSAGE_HEADERS } from '@annals/outbox';
import { NatsPublisher } from '@annals/outbox/nats';
import { PostgresInbox, PostgresProjectionRunner } from '@annals/postgres';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { TransferStarted } from '../../examples/bank-account/src/domain/index.js';
import { transferMessages } from '../../examples/bank-account/src/integration/transfer-messages.js';
import { databaseUrl, useTestDatabase } from '../postgres/support/test-database.js';
import { silent, waitFor } from '../support/projection-read-model.js';
import { outcomeOf, spawnTsx } from '../support/spawn-tsx.js';
import { OwnNatsServer, SHARED_NATS_URL } from './support/nats-server.js';
import { connectNats, createStream } from './support/nats-stream.js';
import { appendTransfers, orderPerStream, uniqueTag } from './support/transfers.js';

const db = useTestDatabase('nats');
const target = databaseUrl === undefined ? 'pglite' : 'server';
const publisherChild = fileURLToPath(new URL('./support/publisher-child.ts', import.meta.url));
let shared: NatsConnection;

beforeAll(async () => {
  shared = await connectNats(SHARED_NATS_URL);
});
afterAll(async () => {
  await shared?.close();
});

/** A store, a JetStream stream of the test's own, and an outbox of transfers to it. */
async function setup(nc: NatsConnection, options: { file?: boolean; ackTimeoutMs?: number } = {}) {
  const tag = uniqueTag();
  const store = await db.open(target);
  const stream = await createStream(nc, `OUTBOX_${tag}`, [`${tag}.>`], options.file);
  const outbox = (name = `nats-${tag}`, messages = transferMessages(tag)) =>
    defineOutbox({
      name,
      messages,
      publisher: new NatsPublisher({ connection: nc, ackTimeoutMs: options.ackTimeoutMs ?? 5000 }),
      streamPrefix: `Transfer-${tag}-`,
      batchSize: 20,
      failure: { retries: 1, backoff: { initialDelayMs: 1, maxDelayMs: 5 }, onExhausted: 'dead-letter' },
    });
  const runner = (projection = outbox()) =>
    new PostgresProjectionRunner({ store, projections: [projection], logger: silent });
  return { tag, store, stream, outbox, runner };
}

describe('the outbox on NATS JetStream (shared server)', () => {
  it('publishes the mapped message of each matching event once, in log order, with Nats-Msg-Id = event id', async () => {
    const { tag, store, stream, runner: makeRunner } = await setup(shared);
    const expected = await appendTransfers(store, tag, 3, 4);
    const runner = makeRunner();
    await runner.start();
    await runner.waitUntilCaughtUp();
    // Live: appended while it runs.
    expected.push(...(await appendTransfers(store, tag, 3, 2, 4)));
    await runner.waitUntilCaughtUp();
    await runner.stop();

    const stored = await stream.messages();
    expect(
      stored.map((m) => m.msgId),
      'one message per TransferStarted, in log order',
    ).toEqual(expected.map((e) => e.id));
    expect(stored.map((m) => m.payload)).toEqual(expected.map((e) => e.payload));
    expect(new Set(stored.map((m) => m.subject))).toEqual(new Set([`${tag}.started`]));
    expect(new Set(stored.map((m) => m.name))).toEqual(new Set(['bank.transfer-started']));
    const first = await (await jetstreamManager(shared)).streams.getMessage(`OUTBOX_${tag}`, { seq: 1 });
    expect(first?.header.get(MESSAGE_HEADERS.version)).toBe('1');
    expect(first?.header.get(MESSAGE_HEADERS.eventType)).toBe('TransferStarted');
    expect(first?.header.get(MESSAGE_HEADERS.streamId)).toBe(expected[0]!.streamId);
    await stream.remove();
  });

  it('messages published again (a second outbox from position 0, as after a crash before the checkpoint) are dropped by the dedup window', async () => {
    const { tag, store, stream, outbox, runner: makeRunner } = await setup(shared);
    const expected = await appendTransfers(store, tag, 2, 10);
    const first = makeRunner();
    await first.start();
    await first.waitUntilCaughtUp();
    await first.stop();
    expect(await stream.count()).toBe(expected.length);
    const again = makeRunner(outbox(`nats-${tag}-again`));
    await again.start();
    await again.waitUntilCaughtUp();
    await again.stop();
    expect(again.status()[0]!.position, 'the second outbox published everything again').toBe(
      first.status()[0]!.position,
    );
    const stored = await stream.messages();
    expect(
      stored.map((m) => m.msgId),
      'each event once after the server dropped the repeats',
    ).toEqual(expected.map((e) => e.id));
    await stream.remove();
  });

  it('an event whose mapping throws is dead-lettered; the others are published, in order', async () => {
    const { tag, store, stream, runner: makeRunner, outbox } = await setup(shared);
    const poisonous = defineIntegrationMessage({
      name: 'bank.transfer-started',
      version: 1,
      event: TransferStarted,
      schema: z.object({ transferId: z.string(), amountCents: z.number() }),
      subject: `${tag}.started`,
      map: (e) => {
        if (e.data.amount.value === 3) throw new Error('cannot map an amount of 3');
        return { transferId: e.data.transferId, amountCents: e.data.amount.value };
      },
    });
    const expected = await appendTransfers(store, tag, 2, 5);
    const runner = makeRunner(outbox(`nats-${tag}`, [poisonous]));
    await runner.start();
    await runner.waitUntilCaughtUp();
    await runner.stop();
    const poison = expected.filter((e) => e.payload.amountCents === 3);
    const letters = await runner.deadLetters.list(`nats-${tag}`);
    expect(letters.map((l) => l.eventId)).toEqual(poison.map((e) => e.id));
    expect(letters[0]!.error).toContain('IntegrationMessageInvalid');
    expect(letters[0]!.error).toContain('cannot map an amount of 3');
    const stored = await stream.messages();
    expect(stored.map((m) => m.msgId)).toEqual(
      expected.filter((e) => e.payload.amountCents !== 3).map((e) => e.id),
    );
    await stream.remove();
  });
});

describe('an inbox consuming from JetStream (shared server)', () => {
  it('a message redelivered because its first delivery was not acknowledged has no second effect', async () => {
    const { tag, store, stream, runner: makeRunner } = await setup(shared);
    const expected = await appendTransfers(store, tag, 2, 3);
    const runner = makeRunner();
    await runner.start();
    await runner.waitUntilCaughtUp();
    await runner.stop();

    const effects = sql.id(store.schema, 'received');
    await sql`create table ${effects} (transfer_id text not null)`.execute(store.kysely);
    const jsm = await jetstreamManager(shared);
    await jsm.consumers.add(`OUTBOX_${tag}`, { durable_name: 'inbox', ack_policy: AckPolicy.Explicit });
    const consumer = await jetstream(shared).consumers.get(`OUTBOX_${tag}`, 'inbox');
    const inbox = new PostgresInbox(store, { consumer: 'received-transfers' });
    let redelivered = 0;
    let crashedOnce = false;
    while ((await effectCount()) < expected.length || redelivered === 0) {
      const message = await consumer.next({ expires: 5000 });
      if (message === null) continue;
      if (message.redelivered) redelivered++;
      const handled = await inbox.handle(message.headers!.get('Nats-Msg-Id'), async (tx) => {
        await sql`insert into ${effects} values (${String(message.json<{ transferId: string }>().transferId)})`.execute(
          tx,
        );
      });
      // The first message's effects commit, then the consumer "crashes" before its acknowledgement.
      if (handled && !crashedOnce) {
        crashedOnce = true;
        message.nak();
      } else message.ack();
    }
    expect(redelivered, 'the unacknowledged message came back').toBeGreaterThan(0);
    const rows = (
      await sql<{ transfer_id: string }>`select transfer_id from ${effects}`.execute(store.kysely)
    ).rows;
    expect(rows.map((r) => r.transfer_id).sort()).toEqual(
      expected.map((e) => String(e.payload.transferId)).sort(),
    );
    await stream.remove();

    async function effectCount(): Promise<number> {
      const result = await sql<{ n: string }>`select count(*)::text as n from ${effects}`.execute(
        store.kysely,
      );
      return Number(result.rows[0]!.n);
    }
  });
});

describe('the outbox on a NATS server that goes away (a server of its own)', () => {
  it('while the server is down events are appended; once it is back everything arrives once, in order per stream', async () => {
    const server = await OwnNatsServer.start();
    const nc = await connectNats(server.url);
    try {
      const { tag, store, stream, runner: makeRunner } = await setup(nc, { file: true, ackTimeoutMs: 1000 });
      const expected = await appendTransfers(store, tag, 3, 3);
      const runner = makeRunner();
      await runner.start();
      await runner.waitUntilCaughtUp();
      await server.kill();
      expected.push(...(await appendTransfers(store, tag, 3, 10, 3)));
      await waitFor(
        () => hasErrorCode(runner.status()[0]!.lastError?.error, 'BROKER_UNAVAILABLE'),
        'the outbox to meet the missing server',
      );
      expect(runner.status()[0]!.state, 'a broker outage never fails the outbox').not.toBe('failed');
      await server.restart();
      await runner.waitUntilCaughtUp();
      await runner.stop();
      expect(runner.status()[0]!.deadLettered, 'nothing was dead-lettered for the outage').toBe(0);
      const stored = await stream.messages();
      expect(stored.map((m) => m.msgId).sort(), 'every event once after dedup').toEqual(
        expected.map((e) => e.id).sort(),
      );
      expect(orderPerStream(stored)).toEqual(orderPerStream(expected));
    } finally {
      await nc.close();
      await server.remove();
    }
  });
});

describe.skipIf(databaseUrl === undefined)('a publisher process killed mid-batch (server)', () => {
  it('after SIGKILL and a restart nothing is lost, and the repeats are dropped by JetStream', async () => {
    const { tag, store, stream } = await setup(shared);
    const expected = await appendTransfers(store, tag, 4, 15);
    const args = [store.schema, tag, 'nats', SHARED_NATS_URL];
    // The child publishes the first half of its first batch (confirmed), then kills itself.
    const killed = await outcomeOf(spawnTsx(publisherChild, [...args, 'kill-mid-batch']));
    expect(killed.signal, `the publisher was killed mid-batch (stderr: ${killed.stderr})`).toBe('SIGKILL');
    const published = await stream.count();
    expect(published, 'part of the first batch reached the stream before the kill').toBeGreaterThan(0);
    expect(published).toBeLessThan(expected.length);
    const restarted = await outcomeOf(spawnTsx(publisherChild, args));
    expect(restarted.code, `the restarted publisher caught up (stderr: ${restarted.stderr})`).toBe(0);
    const report = JSON.parse(restarted.stdout.trim().split('\n').at(-1)!);
    expect(report.published, 'the restart published from the last checkpoint, the confirmed half again').toBe(
      expected.length,
    );
    const stored = await stream.messages();
    expect(
      stored.map((m) => m.msgId),
      'each event once, in log order',
    ).toEqual(expected.map((e) => e.id));
    await stream.remove();
  });
});
