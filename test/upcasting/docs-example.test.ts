/**
 * The code docs/concepts/upcasting.md shows, run. The regions below are copied into the page by
 * `tsx scripts/snippets.ts` (test/docs/snippets.test.ts fails when a copy is stale).
 */
import {
  InMemoryEventStore,
  isAnnalsError,
  type RecordedEvent,
  UpcasterRegistry,
  type UpcastFailed,
} from '@annals/core';
import { afterEach, describe, expect, it } from 'vitest';
import { moneyEvents, upcasters } from './fixtures/money-events.js';

const stores: InMemoryEventStore[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

describe('docs/concepts/upcasting.md', () => {
  it('imports a v1 history and reads it as v3', async () => {
    // #region import-history
    const store = new InMemoryEventStore({ events: moneyEvents, upcasters });
    await store.append(
      'account-7',
      [
        { type: 'FundsAdded', schemaVersion: 1, data: { account: 'account-7', cents: 500 } },
        {
          type: 'MoneyDeposited',
          schemaVersion: 1,
          data: { accountId: 'account-7', amount: 1250 },
          metadata: { channel: 'web' },
        },
        {
          type: 'MoneyDeposited',
          schemaVersion: 2,
          data: { accountId: 'account-7', amount: { value: 990, currency: 'GBP' } },
        },
      ],
      { import: true },
    );
    // #endregion import-history
    stores.push(store);

    // #region read-current
    const read: RecordedEvent[] = [];
    for await (const event of store.readStream('account-7')) read.push(event);
    expect(read.map((e) => [e.type, e.schemaVersion, e.data])).toEqual([
      [
        'MoneyDeposited',
        3,
        { accountId: 'account-7', amount: { value: 500, currency: 'EUR' }, channel: 'unknown' },
      ],
      [
        'MoneyDeposited',
        3,
        { accountId: 'account-7', amount: { value: 1250, currency: 'EUR' }, channel: 'online' },
      ],
      [
        'MoneyDeposited',
        3,
        { accountId: 'account-7', amount: { value: 990, currency: 'GBP' }, channel: 'unknown' },
      ],
    ]);
    // A type filter matches what events are read as: the renamed FundsAdded is a MoneyDeposited.
    const deposits: RecordedEvent[] = [];
    for await (const event of store.readAll({ filter: { types: ['MoneyDeposited'] } })) deposits.push(event);
    expect(deposits).toHaveLength(3);
    // #endregion read-current
  });

  it('refuses old versions outside an import, and imports that could never be read', async () => {
    const store = new InMemoryEventStore({ events: moneyEvents, upcasters });
    stores.push(store);
    // #region import-refused
    // Without { import: true }, only the current version may be written:
    await expect(
      store.append('account-8', [
        { type: 'MoneyDeposited', schemaVersion: 1, data: { accountId: 'a', amount: 5 } },
      ]),
    ).rejects.toMatchObject({ code: 'EVENT_VALIDATION_FAILED' });
    // An imported event must upcast to a valid current event; otherwise nothing of the batch is written:
    await expect(
      store.append(
        'account-8',
        [{ type: 'MoneyDeposited', schemaVersion: 1, data: { accountId: 'a', amount: 'five' } }],
        { import: true },
      ),
    ).rejects.toMatchObject({ code: 'UPCAST_FAILED', fromVersion: 1, toVersion: 3 });
    // #endregion import-refused
    await expect(store.readStream('account-8')[Symbol.asyncIterator]().next()).rejects.toMatchObject({
      code: 'STREAM_NOT_FOUND',
    });
  });

  it('checks the chain when the store is created', () => {
    // #region start-up-check
    // MoneyDeposited is defined at v3, but the step from v2 was forgotten:
    const incomplete = new UpcasterRegistry().register({
      type: 'MoneyDeposited',
      from: 1,
      to: 2,
      up: (d: { accountId: string; amount: number }) => ({
        accountId: d.accountId,
        amount: { value: d.amount, currency: 'EUR' },
      }),
    });
    expect(() => new InMemoryEventStore({ events: moneyEvents, upcasters: incomplete })).toThrow(
      'Upcaster chain for MoneyDeposited v1 is invalid: it stops at MoneyDeposited v2, below the current v3',
    );
    // #endregion start-up-check
  });

  it('fails a read with UpcastFailed when an upcaster produces invalid data', async () => {
    let release = 1; // release 2 ships a v2 -> v3 step that invents a channel the schema does not know
    const steps = new UpcasterRegistry()
      .register(upcasters.step('FundsAdded', 1)!)
      .register(upcasters.step('MoneyDeposited', 1)!)
      .register({
        type: 'MoneyDeposited',
        from: 2,
        to: 3,
        up: (d: object, metadata) => ({
          ...d,
          channel: release === 1 ? 'unknown' : (metadata.channel ?? 'web'),
        }),
      });
    const store = new InMemoryEventStore({ events: moneyEvents, upcasters: steps });
    stores.push(store);
    const id = '01936d3c-8a7e-7c3e-9b1a-4f2d6e8c0a12';
    await store.append(
      'account-9',
      [
        {
          id,
          type: 'MoneyDeposited',
          schemaVersion: 2,
          data: { accountId: 'account-9', amount: { value: 2, currency: 'EUR' } },
        },
      ],
      { import: true },
    );
    release = 2;
    const error = await (async () => {
      for await (const _ of store.readStream('account-9')) return undefined;
    })().catch((e: unknown) => e as UpcastFailed);
    expect(isAnnalsError(error)).toBe(true);
    // #region upcast-error
    // UpcastFailed (code UPCAST_FAILED): Could not upcast event 01936d3c-8a7e-7c3e-9b1a-4f2d6e8c0a12 of stream
    // account-9 from MoneyDeposited v2 to MoneyDeposited v3: the result does not match the current schema:
    // channel: Invalid option: expected one of "online"|"branch"|"unknown".
    // #endregion upcast-error
    expect(error?.message).toBe(
      `Could not upcast event ${id} of stream account-9 from MoneyDeposited v2 to MoneyDeposited v3: the result does not match the current schema: channel: Invalid option: expected one of "online"|"branch"|"unknown".`,
    );
    expect(error?.issues.map((i) => i.path)).toEqual([['channel']]);
  });
});
