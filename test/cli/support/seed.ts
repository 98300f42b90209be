import type { RecordedEvent } from '@annals/core';
import { type PostgresConnectionOptions, PostgresEventStore } from '@annals/postgres';
import { finalLog } from '../../support/final-log.js';

/**
 * The log the tests seed: carts with items (one ItemAdded stored at v1, read through the upcaster),
 * two carts owned by "poison" (dead letters for cart-owners), and two events that no longer read
 * (an ItemAdded v1 without its sku, an ItemAdded v2 whose quantity the schema refuses).
 */
export async function seedLog(connection: PostgresConnectionOptions, schema?: string): Promise<void> {
  // No definitions: every event is stored exactly as given (type, version, data).
  const store = await PostgresEventStore.create(connection, schema === undefined ? {} : { schema });
  try {
    const meta = (n: number) => ({ correlationId: `c-${n}`, source: 'seed' });
    await store.append('cart-1', [
      { type: 'CartOpened', data: { owner: 'ada' }, metadata: meta(1) },
      { type: 'ItemAdded', schemaVersion: 1, data: { sku: 'pen' }, metadata: meta(2) },
      { type: 'ItemAdded', schemaVersion: 2, data: { sku: 'ink', quantity: 3 }, metadata: meta(3) },
    ]);
    await store.append('cart-2', [{ type: 'CartOpened', data: { owner: 'poison' }, metadata: meta(4) }]);
    await store.append('cart-1', [
      { type: 'ItemAdded', schemaVersion: 2, data: { sku: 'pad', quantity: 2 } },
    ]);
    await store.append('cart-3', [{ type: 'CartOpened', data: { owner: 'poison' } }]);
    await store.append('order-1', [
      { type: 'ItemAdded', schemaVersion: 1, data: { name: 'no sku' } },
      { type: 'ItemAdded', schemaVersion: 2, data: { sku: 'gum', quantity: -4 } },
    ]);
  } finally {
    await store.close();
  }
}

/** The ids of the two seeded events that no longer read, in log order. */
export const UNREADABLE_STREAM = 'order-1';

/** Reads the whole log as stored, once no committed event waits above the horizon. */
export async function readLog(
  connection: PostgresConnectionOptions,
  schema?: string,
): Promise<RecordedEvent[]> {
  const store = await PostgresEventStore.create(connection, schema === undefined ? {} : { schema });
  try {
    return await finalLog(store);
  } finally {
    await store.close();
  }
}

/**
 * What a copy of the log must keep of each event, in log order: everything but the position, which
 * the target assigns.
 */
export function kept(events: readonly RecordedEvent[]) {
  return events.map((e) => ({
    id: e.id,
    recordedAt: e.recordedAt.toISOString(),
    streamId: e.streamId,
    revision: e.revision,
    type: e.type,
    schemaVersion: e.schemaVersion,
    data: e.data,
    metadata: e.metadata,
  }));
}
