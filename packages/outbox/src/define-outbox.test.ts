import {
  defineEvent,
  InMemoryCheckpointStore,
  InMemoryDeadLetterStore,
  InMemoryEventStore,
  InvalidArgument,
  ProjectionRunner,
} from '@annals/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineIntegrationMessage } from './define-integration-message.js';
import { defineOutbox } from './define-outbox.js';
import { BrokerUnavailable } from './errors.js';
import type { MessagePublisher, OutgoingMessage } from './outgoing-message.js';

const Noted = defineEvent('Noted', { schema: z.object({ n: z.number() }) });
const Other = defineEvent('Other', { schema: z.object({}) });
const silent = { warn: () => {}, error: () => {} };

const NoteMessage = defineIntegrationMessage({
  name: 'note',
  version: 1,
  event: Noted,
  schema: z.object({ n: z.number() }),
  subject: 'notes',
  map: (e) => {
    if (e.data.n === 13) throw new Error('13 has no message');
    return { n: e.data.n };
  },
});

/** A broker that is down for `outage` publishes, then keeps what it is given. */
function broker(outage = 0) {
  const published: OutgoingMessage[] = [];
  let down = outage;
  const publisher: MessagePublisher = {
    broker: 'fake',
    async publish(messages) {
      if (down-- > 0) throw new BrokerUnavailable('fake', 'a batch', new Error('connection refused'));
      published.push(...messages);
    },
  };
  return { publisher, published };
}

async function storeWith(ns: number[]) {
  const store = new InMemoryEventStore({ events: [Noted, Other] });
  for (const n of ns) {
    await store.append(`note-${n % 2}`, [Noted.create({ n })]);
    await store.append('other-1', [Other.create({})]);
  }
  return store;
}

describe('defineOutbox', () => {
  it('publishes the message of every event of its types, in log order, waiting out a broker that is down', async () => {
    const store = await storeWith([1, 2, 3, 4]);
    const { publisher, published } = broker(5);
    const outbox = defineOutbox({
      name: 'notes',
      messages: [NoteMessage],
      publisher,
      failure: { retries: 0, onExhausted: 'stop' },
    });
    const runner = new ProjectionRunner({ store, projections: [outbox], logger: silent });
    await runner.start();
    await runner.waitUntilCaughtUp();
    await runner.stop();
    expect(published.map((m) => m.payload)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }]);
    expect(runner.status('notes')).toMatchObject({ state: 'stopped', deadLettered: 0 });
    expect(runner.status('notes')!.lastError?.error).toBeInstanceOf(BrokerUnavailable);
  });

  it('dead-letters a poison event (its mapping throws) and publishes the rest of its batch', async () => {
    const store = await storeWith([11, 12, 13, 14]);
    const { publisher, published } = broker();
    const outbox = defineOutbox({
      name: 'notes',
      messages: [NoteMessage],
      publisher,
      streamPrefix: 'note-',
      failure: { retries: 1, backoff: { initialDelayMs: 1, maxDelayMs: 2 }, onExhausted: 'dead-letter' },
    });
    const runner = new ProjectionRunner({ store, projections: [outbox], logger: silent });
    await runner.start();
    await runner.waitUntilCaughtUp();
    await runner.stop();
    expect(published.map((m) => m.payload)).toEqual([{ n: 11 }, { n: 12 }, { n: 14 }]);
    const letters = await runner.deadLetters.list('notes');
    expect(letters).toHaveLength(1);
    expect(letters[0]!.error).toContain('13 has no message');
  });

  it('refuses no messages, two messages for one event type, and a publisher without publish', () => {
    const { publisher } = broker();
    expect(() => defineOutbox({ name: 'o', messages: [], publisher })).toThrow(InvalidArgument);
    expect(() => defineOutbox({ name: 'o', messages: [NoteMessage, NoteMessage], publisher })).toThrow(
      /two messages for event type Noted/,
    );
    expect(() => defineOutbox({ name: 'o', messages: [NoteMessage], publisher: {} as never })).toThrow(
      InvalidArgument,
    );
  });
});

describe('defineOutbox, a batch applied again in the same process', () => {
  it('does not send again what the broker confirmed when the runner cuts a batch around a poison event', async () => {
    const store = await storeWith([21, 22, 13, 24]);
    const { publisher, published } = broker();
    const outbox = defineOutbox({
      name: 'notes',
      messages: [NoteMessage],
      publisher,
      failure: { retries: 0, onExhausted: 'dead-letter' },
    });
    // With a transaction, the events before the poison one are applied, rolled back, then committed
    // again: the outbox is asked to publish them twice.
    let transactions = 0;
    const runner = new ProjectionRunner({
      store,
      projections: [outbox],
      logger: silent,
      checkpoints: new InMemoryCheckpointStore(),
      deadLetters: new InMemoryDeadLetterStore(),
      transaction: async (work) => {
        transactions++;
        return work(undefined);
      },
    });
    await runner.start();
    await runner.waitUntilCaughtUp();
    await runner.stop();
    expect(transactions, 'the runner applied the batch more than once').toBeGreaterThan(2);
    expect(published.map((m) => m.payload)).toEqual([{ n: 21 }, { n: 22 }, { n: 24 }]);
  });
});
