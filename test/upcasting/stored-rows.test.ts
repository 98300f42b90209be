/**
 * Stored events are never rewritten: after reads on every path, the stored row of an imported old
 * event is still the old type, version and data. (The adapter-independent cases, run on every adapter
 * by test/conformance, prove it through the store's API; these look at the rows themselves.)
 */
import { type EventStore, InMemoryEventStore, type NewEvent, uuidv7 } from '@annals/core';
import type { StoredEvent } from '@annals/core/adapter';
import { PostgresEventStore } from '@annals/postgres';
import type { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startPGlite } from '../support/pglite.js';
import { moneyEvents, upcasters } from './fixtures/money-events.js';

const oldRow = (): NewEvent & { id: string } => ({
  id: uuidv7(),
  type: 'FundsAdded',
  schemaVersion: 1,
  data: { account: 'account-1', cents: 250 },
  metadata: { channel: 'web' },
});
const asRead = { accountId: 'account-1', amount: { value: 250, currency: 'EUR' }, channel: 'online' };

/** Reads the stream through every read path of `store`; each must see the event upcast. */
async function readEverywhere(store: EventStore): Promise<void> {
  for await (const e of store.readStream('account-1')) expect(e.data).toEqual(asRead);
  for await (const e of store.readStream('account-1', { direction: 'backwards' }))
    expect(e.type).toBe('MoneyDeposited');
  for await (const e of store.readAll({ filter: { types: ['MoneyDeposited'] } }))
    expect(e.schemaVersion).toBe(3);
  for (const sub of [
    store.subscribeToStream('account-1'),
    store.subscribeToAll({ filter: { types: ['MoneyDeposited'] } }),
  ]) {
    for await (const e of sub) {
      expect(e.data).toEqual(asRead);
      break;
    }
  }
}

describe('InMemoryEventStore', () => {
  it('hands the same FundsAdded v1 row to the registry on every read (seen through the registry it decodes with)', async () => {
    const store = new InMemoryEventStore({ events: moneyEvents, upcasters });
    const decode = vi.spyOn(store.registry, 'decode');
    const event = oldRow();
    await store.append('account-1', [event], { import: true });
    decode.mockClear();
    await readEverywhere(store);
    const rows = decode.mock.calls.map(([row]) => row as StoredEvent);
    expect(rows).toHaveLength(5);
    for (const row of rows) {
      expect(row).toMatchObject({
        id: event.id,
        type: 'FundsAdded',
        schemaVersion: 1,
        data: event.data,
        metadata: event.metadata,
      });
    }
    await store.close();
  });
});

describe('PostgresEventStore (PGlite): a store without upcasters over the same schema reads the raw row', () => {
  let pglite: PGlite;
  beforeAll(async () => {
    pglite = await startPGlite();
  });
  afterAll(async () => {
    await pglite.close();
  });

  it('the v1 row is unchanged after reads on every path', async () => {
    const schema = `upcasting_rows_${process.pid}`;
    const current = await PostgresEventStore.create({ pglite }, { events: moneyEvents, upcasters, schema });
    await current.migrate();
    const event = oldRow();
    await current.append('account-1', [event], { import: true });
    await readEverywhere(current);

    // No definitions, no upcasters: rows are read as stored.
    const raw = await PostgresEventStore.create({ pglite }, { schema });
    const rows = [];
    for await (const e of raw.readStream('account-1')) rows.push(e);
    expect(rows.map((e) => [e.id, e.type, e.schemaVersion, e.data, e.metadata])).toEqual([
      [event.id, 'FundsAdded', 1, event.data, event.metadata],
    ]);
    await raw.close();
    await current.close();
  });
});
