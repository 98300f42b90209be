/**
 * The examples of docs/concepts/overview.md. Each region is shown on that page; the assertions around it
 * prove that what the page says about it is true.
 */

import {
  ConcurrencyConflict,
  defineEvent,
  type EventData,
  type EventStore,
  InMemoryEventStore,
  isConcurrencyConflict,
  StreamNotFound,
  UpcasterRegistry,
  uuidv7,
} from '@annals/core';
import { toArray } from '@annals/testing';
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import { z } from 'zod';

// #region define-events
const ItemAdded = defineEvent('ItemAdded', {
  schema: z.object({ cartId: z.string(), sku: z.string(), quantity: z.number().int().positive() }),
});
const CartCheckedOut = defineEvent('CartCheckedOut', {
  schema: z.object({ cartId: z.string() }),
});

type Added = EventData<typeof ItemAdded>; // { cartId: string; sku: string; quantity: number }
// #endregion define-events

const cartEvents = [ItemAdded, CartCheckedOut];

describe('docs/concepts/overview.md', () => {
  // The page's snippets print what they show; the tests check those lines.
  let log: MockInstance<typeof console.log>;
  beforeEach(() => {
    log = vi.spyOn(console, 'log').mockImplementation(() => {});
  });
  afterEach(() => {
    log.mockRestore();
  });

  it('streams and revisions: an append returns the last revision; revisions are gapless from 0', async () => {
    // #region streams-and-revisions
    const store = new InMemoryEventStore({ events: cartEvents });

    const first = await store.append(
      'cart-42',
      [
        ItemAdded.create({ cartId: '42', sku: 'apple', quantity: 3 }),
        ItemAdded.create({ cartId: '42', sku: 'pear', quantity: 1 }),
      ],
      { expectedRevision: 'no_stream' },
    );
    expect(first.nextExpectedRevision).toBe(1n); // the revision of the stream's last event

    for await (const event of store.readStream('cart-42')) {
      console.log(event.revision, event.type, event.data); // 0n ItemAdded {...}, then 1n ItemAdded {...}
    }
    // #endregion streams-and-revisions
    expect(log.mock.calls.map((c) => c.slice(0, 2))).toEqual([
      [0n, 'ItemAdded'],
      [1n, 'ItemAdded'],
    ]);
    const read = await toArray(store.readStream('cart-42'));
    expect(read.map((e) => e.revision)).toEqual([0n, 1n]);
    expect(read.map((e) => (e.data as Added).sku)).toEqual(['apple', 'pear']);
    await expect(toArray(store.readStream('cart-7'))).rejects.toBeInstanceOf(StreamNotFound);
    await store.close();
  });

  it('expected revisions: a stale writer gets ConcurrencyConflict and nothing is written', async () => {
    const store = new InMemoryEventStore({ events: cartEvents });
    await store.append('cart-42', [ItemAdded.create({ cartId: '42', sku: 'apple', quantity: 3 })]);
    await store.append('cart-42', [ItemAdded.create({ cartId: '42', sku: 'pear', quantity: 1 })]);

    // #region expected-revision
    // Two requests loaded the cart at revision 1. The first one to append wins...
    await store.append('cart-42', [CartCheckedOut.create({ cartId: '42' })], { expectedRevision: 1n });

    // ...the second one learns that the cart moved on, and nothing of its batch is written.
    try {
      await store.append('cart-42', [ItemAdded.create({ cartId: '42', sku: 'plum', quantity: 2 })], {
        expectedRevision: 1n,
      });
    } catch (error) {
      if (!isConcurrencyConflict(error)) throw error;
      console.log(error.message); // Expected revision 1 of stream cart-42, found revision 2.
    }
    // #endregion expected-revision
    expect(log).toHaveBeenCalledWith('Expected revision 1 of stream cart-42, found revision 2.');
    const error = await store
      .append('cart-42', [ItemAdded.create({ cartId: '42', sku: 'plum', quantity: 2 })], {
        expectedRevision: 1n,
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConcurrencyConflict);
    expect((error as ConcurrencyConflict).message).toBe(
      'Expected revision 1 of stream cart-42, found revision 2.',
    );
    expect((error as ConcurrencyConflict).actual).toBe(2n);
    const read = await toArray(store.readStream('cart-42'));
    expect(read.map((e) => e.type)).toEqual(['ItemAdded', 'ItemAdded', 'CartCheckedOut']);
    await store.close();
  });

  it('positions: the global log is ordered by position; fromPosition is inclusive', async () => {
    const store = new InMemoryEventStore({ events: cartEvents });
    // #region positions
    await store.append('cart-1', [ItemAdded.create({ cartId: '1', sku: 'apple', quantity: 1 })]);
    const second = await store.append('cart-2', [ItemAdded.create({ cartId: '2', sku: 'fig', quantity: 5 })]);
    await store.append('cart-1', [CartCheckedOut.create({ cartId: '1' })]);

    // Every event of every stream, in the one order all readers agree on.
    for await (const event of store.readAll()) {
      console.log(event.position, event.streamId, event.revision, event.type);
    }

    // Resume from a position you kept (inclusive), and filter by type or stream prefix.
    const checkouts = store.readAll({
      fromPosition: second.firstPosition,
      filter: { types: ['CartCheckedOut'] },
    });
    // #endregion positions
    expect(log.mock.calls.map((c) => c.slice(1))).toEqual([
      ['cart-1', 0n, 'ItemAdded'],
      ['cart-2', 0n, 'ItemAdded'],
      ['cart-1', 1n, 'CartCheckedOut'],
    ]);
    const all = await toArray(store.readAll());
    expect(all.map((e) => `${e.streamId}@${e.revision}`)).toEqual(['cart-1@0', 'cart-2@0', 'cart-1@1']);
    for (let i = 1; i < all.length; i++) expect(all[i]!.position).toBeGreaterThan(all[i - 1]!.position);
    const fromSecond = await toArray(store.readAll({ fromPosition: second.firstPosition }));
    expect(fromSecond[0]!.id).toBe(all[1]!.id);
    expect((await toArray(checkouts)).map((e) => e.streamId)).toEqual(['cart-1']);
    await store.close();
  });

  it('metadata: correlation and causation ids travel with the events', async () => {
    const store = new InMemoryEventStore({ events: cartEvents });
    // #region metadata
    const commandId = uuidv7();
    await store.append('cart-42', [
      ItemAdded.create(
        { cartId: '42', sku: 'apple', quantity: 3 },
        { metadata: { correlationId: 'request-7f3a', causationId: commandId, userId: 'u-1' } },
      ),
    ]);

    for await (const event of store.readStream('cart-42')) {
      console.log(event.metadata); // { correlationId: 'request-7f3a', causationId: '019…', userId: 'u-1' }
    }
    // #endregion metadata
    const [added] = await toArray(store.readStream('cart-42'));
    expect(log).toHaveBeenCalledWith(added?.metadata);
    expect(added?.metadata).toEqual({ correlationId: 'request-7f3a', causationId: commandId, userId: 'u-1' });
    await store.close();
  });

  it('idempotency: re-appending the same event ids returns the first result and writes nothing', async () => {
    const store = new InMemoryEventStore({ events: cartEvents });
    // #region idempotency
    const event = ItemAdded.create({ cartId: '42', sku: 'apple', quantity: 3 }, { id: uuidv7() });

    const first = await store.append('cart-42', [event]);
    const retry = await store.append('cart-42', [event]); // e.g. the response of the first was lost

    console.log(retry.lastPosition === first.lastPosition); // true: the same result, no second copy
    // #endregion idempotency
    expect(log).toHaveBeenCalledWith(true);
    expect(retry).toEqual(first);
    expect((await toArray(store.readStream('cart-42'))).length).toBe(1);
    const changed = ItemAdded.create({ cartId: '42', sku: 'apple', quantity: 4 }, { id: event.id });
    await expect(store.append('cart-42', [changed])).rejects.toMatchObject({ code: 'IDEMPOTENCY_CONFLICT' });
    await store.close();
  });

  it('immutability: recorded events are deeply frozen and validated on append', async () => {
    const store = new InMemoryEventStore({ events: cartEvents });
    await store.append('cart-42', [ItemAdded.create({ cartId: '42', sku: 'apple', quantity: 3 })]);
    // #region immutability
    for await (const event of store.readStream('cart-42')) {
      console.log(Object.isFrozen(event), Object.isFrozen(event.data)); // true true: nested objects too
      // (event.data as Added).quantity = 30;  -> TypeError: Cannot assign to read only property 'quantity'
    }

    // Data that does not match its schema is refused before anything is written.
    const refused = await store
      .append('cart-42', [ItemAdded.create({ cartId: '42', sku: 'apple', quantity: -1 })])
      .catch((error: unknown) => error);
    console.log(refused); // EventValidationFailed: Event ItemAdded for stream cart-42 is invalid: quantity: ...
    // #endregion immutability
    expect(log).toHaveBeenCalledWith(true, true);
    expect(log).toHaveBeenCalledWith(refused);
    const [event] = await toArray(store.readStream('cart-42'));
    const data = event!.data as Added;
    expect(refused).toMatchObject({ code: 'EVENT_VALIDATION_FAILED' });
    expect((refused as Error).message).toMatch(/^Event ItemAdded for stream cart-42 is invalid: quantity: /);
    expect(Object.isFrozen(event)).toBe(true);
    expect(Object.isFrozen(data)).toBe(true);
    expect(() => {
      (data as { quantity: number }).quantity = 30;
    }).toThrow(TypeError);
    expect((await toArray(store.readStream('cart-42'))).length).toBe(1);
    await store.close();
  });

  it('what data may hold: a Date through a codec reads back as a Date; a value JSON would change is refused', async () => {
    // #region date-field
    const isoDate = z.codec(z.iso.datetime(), z.date(), {
      decode: (text) => new Date(text), // on every read
      encode: (date) => date.toISOString(), // on append: the log holds the string
    });
    const DeliveryPlanned = defineEvent('DeliveryPlanned', {
      schema: z.object({ cartId: z.string(), deliverOn: isoDate }),
    });

    const store = new InMemoryEventStore({ events: [DeliveryPlanned] });
    await store.append('cart-42', [
      DeliveryPlanned.create({ cartId: '42', deliverOn: new Date('2025-03-01T09:00:00Z') }),
    ]);
    for await (const event of store.readStream('cart-42')) {
      const { deliverOn } = event.data as EventData<typeof DeliveryPlanned>;
      console.log(deliverOn instanceof Date, deliverOn.toISOString()); // true 2025-03-01T09:00:00.000Z
    }
    // #endregion date-field
    expect(log).toHaveBeenCalledWith(true, '2025-03-01T09:00:00.000Z');

    // #region refused
    const ReminderSet = defineEvent('ReminderSet', { schema: z.object({ at: z.date() }) }); // no codec
    const reminders = new InMemoryEventStore({ events: [ReminderSet] });
    const refused = await reminders
      .append('reminder-1', [ReminderSet.create({ at: new Date() })])
      .catch((error: unknown) => error);
    console.log(refused);
    // EventValidationFailed: Event ReminderSet for stream reminder-1 is invalid: at: Expected a JSON value
    // (string, finite number, boolean, null, plain object or array); found a Date; use a codec ...
    // #endregion refused
    expect(log).toHaveBeenCalledWith(refused);
    expect(refused).toMatchObject({ code: 'EVENT_VALIDATION_FAILED' });
    expect((refused as Error).message).toMatch(
      /^Event ReminderSet for stream reminder-1 is invalid: at: Expected a JSON value \(string, finite number, boolean, null, plain object or array\); found a Date; use a codec/,
    );
    await expect(toArray(reminders.readStream('reminder-1')), 'nothing was written').rejects.toMatchObject({
      code: 'STREAM_NOT_FOUND',
    });
    await reminders.close();
    expect((await toArray(store.readStream('cart-42'))).length).toBe(1);
    await store.close();
  });

  it('replayability: folding a stream gives the same state on every read, also after a schema change', async () => {
    // Version 1 of ItemAdded had no quantity; it is stored as it was written and upcast on read.
    const ItemAddedV2 = defineEvent('ItemAdded', {
      version: 2,
      schema: z.object({ cartId: z.string(), sku: z.string(), quantity: z.number().int().positive() }),
    });
    const upcasters = new UpcasterRegistry().register({
      type: 'ItemAdded',
      from: 1,
      to: 2,
      up: (v1: { cartId: string; sku: string }) => ({ ...v1, quantity: 1 }),
    });
    const store = new InMemoryEventStore({ events: [ItemAddedV2, CartCheckedOut], upcasters });
    await store.append(
      'cart-42',
      [{ type: 'ItemAdded', schemaVersion: 1, data: { cartId: '42', sku: 'fig' } }],
      {
        import: true,
      },
    );
    await store.append('cart-42', [ItemAddedV2.create({ cartId: '42', sku: 'apple', quantity: 3 })]);

    // #region replay
    // State is a left fold over the stream: the same events give the same state, every time.
    async function loadCart(store: EventStore, cartId: string) {
      const cart = { items: new Map<string, number>(), checkedOut: false };
      for await (const event of store.readStream(`cart-${cartId}`)) {
        if (event.type === 'ItemAdded') {
          const { sku, quantity } = event.data as Added;
          cart.items.set(sku, (cart.items.get(sku) ?? 0) + quantity);
        } else if (event.type === 'CartCheckedOut') {
          cart.checkedOut = true;
        }
      }
      return cart;
    }
    // #endregion replay
    const once = await loadCart(store, '42');
    const twice = await loadCart(store, '42');
    expect([...once.items]).toEqual([
      ['fig', 1],
      ['apple', 3],
    ]);
    expect(twice).toEqual(once);
    const [stored] = await toArray(store.readStream('cart-42'));
    expect(stored?.schemaVersion).toBe(2);
    await store.close();
  });

  it('subscriptions: catch up from a position, then go live, each event once', async () => {
    const store = new InMemoryEventStore({ events: cartEvents });
    await store.append('cart-1', [ItemAdded.create({ cartId: '1', sku: 'apple', quantity: 1 })]);
    const live = store.append('cart-2', [ItemAdded.create({ cartId: '2', sku: 'fig', quantity: 5 })]);
    // #region subscribe-all
    const seen: string[] = [];
    let checkpoint = 0n; // a position you stored; 0n reads from the start
    const subscription = store.subscribeToAll({
      fromPosition: checkpoint,
      filter: { streamPrefix: 'cart-' },
    });
    for await (const event of subscription) {
      seen.push(`${event.streamId}@${event.revision}`); // stored events first, then new ones as they commit
      checkpoint = event.position + 1n; // resume after this event next time
      if (seen.length === 2) await subscription.stop(); // or `break`
    }
    // #endregion subscribe-all
    await live;
    expect(seen).toEqual(['cart-1@0', 'cart-2@0']);
    expect(checkpoint).toBe(3n);
    await store.close();
  });
});
