import { defineEvent, type EventStore, type NewEvent, type RecordedEvent, uuidv7 } from '@annals/core';
import { z } from 'zod';
import { toArray } from './collect.js';
import type { ConformanceContext } from './conformance-types.js';

/**
 * A defined event the conformance cases append: nested data (for issue paths), a default (to prove the
 * stored data is the schema's output) and an optional array.
 */
export const ItemAdded = defineEvent('ItemAdded', {
  version: 1,
  schema: z.object({
    sku: z.string().min(1),
    quantity: z.number().int().positive().default(1),
    price: z.object({ amount: z.number(), currency: z.string().length(3) }).optional(),
    tags: z.array(z.string()).optional(),
  }),
});

/** A second defined event, for type filters. */
export const ItemRemoved = defineEvent('ItemRemoved', {
  version: 1,
  schema: z.object({ sku: z.string().min(1) }),
});

/** The definitions the conformance cases give their stores. `Note` is deliberately left undefined. */
export const conformanceEvents = [ItemAdded, ItemRemoved] as const;

/** A fresh store that knows {@link conformanceEvents}; `strict` refuses the undefined `Note`. */
export function createFixtureStore(
  context: ConformanceContext,
  options: { readonly strict?: boolean } = {},
): Promise<EventStore> {
  return context.createStore({ events: conformanceEvents, strict: options.strict ?? false });
}

/** A valid `ItemAdded`. */
export function added(sku: string, extra: { id?: string; metadata?: NewEvent['metadata'] } = {}): NewEvent {
  return ItemAdded.create({ sku, quantity: 1 }, extra);
}

/** A valid `ItemRemoved`. */
export function removed(sku: string, extra: { id?: string } = {}): NewEvent {
  return ItemRemoved.create({ sku }, extra);
}

/** An event of the undefined type `Note`, stored as plain JSON by a non-strict store. */
export function note(text: string, extra: { id?: string } = {}): NewEvent {
  return { type: 'Note', data: { text }, ...extra };
}

/** An `ItemAdded` whose data breaks the schema (`quantity` must be a positive integer). */
export function invalidItem(sku: string): NewEvent {
  return { type: 'ItemAdded', data: { sku, quantity: -1 } };
}

/** The ids of a stream in revision order. */
export async function streamIds(store: EventStore, streamId: string): Promise<string[]> {
  return (await toArray(store.readStream(streamId))).map((e) => e.id);
}

/** The ids of the whole global log in order. */
export async function logIds(store: EventStore): Promise<string[]> {
  return (await toArray(store.readAll())).map((e) => e.id);
}

/** The parts of an event that identify where it sits: compared in order to prove exactly-once delivery. */
export function placeOf(event: RecordedEvent): {
  id: string;
  streamId: string;
  revision: bigint;
  position: bigint;
} {
  return { id: event.id, streamId: event.streamId, revision: event.revision, position: event.position };
}

/**
 * Appends `count` events to `streamId` in batches of one to three, each with the exact expected
 * revision, awaiting each batch so concurrent readers and writers interleave with it. `last` is the
 * stream's last revision before (`'no_stream'` for a new stream). Returns the ids in order.
 */
export async function appendInBatches(
  store: EventStore,
  streamId: string,
  count: number,
  options: { readonly last?: bigint | 'no_stream'; readonly make?: (i: number) => NewEvent } = {},
): Promise<string[]> {
  const make = options.make ?? ((i: number) => added(`${streamId}-${i}`));
  let last: bigint | 'no_stream' = options.last ?? 'no_stream';
  const ids: string[] = [];
  let i = 0;
  while (i < count) {
    const size = Math.min(count - i, 1 + ((i + streamId.length) % 3));
    const batch = Array.from({ length: size }, (_, k) => withId(make(i + k)));
    const result = await store.append(streamId, batch, { expectedRevision: last });
    last = result.nextExpectedRevision;
    ids.push(...batch.map((e) => e.id));
    i += size;
  }
  return ids;
}

/** `event` with an id: its own, or a fresh UUID v7, so a case knows every id it appended. */
export function withId(event: NewEvent): NewEvent & { readonly id: string } {
  return event.id === undefined ? { ...event, id: uuidv7() } : (event as NewEvent & { id: string });
}
