import { type NewEvent, uuidv7 } from '@annals/core';
import type { PostgresEventStore } from '@annals/postgres';

/** Markup that runs script if a page ever renders it as HTML (it sets `window.__xss`). */
export const XSS = {
  data: '<script>window.__xss=1</script><img src=x onerror=window.__xss=2>',
  metadata: '<img src=x onerror=window.__xss=3><script>window.__xss=4</script>',
  correlation: '<img src=x onerror=window.__xss=5>',
} as const;

/** What the seed wrote that tests look for. */
export interface Seeded {
  /** The first event of BankAccount-acc-1 (the correlation id of its deposits). */
  readonly openedId: string;
  /** The deposit stored at v1 (read as v2 through the upcaster). */
  readonly oldDepositId: string;
  /** The deposit whose causation is the v1 deposit. */
  readonly causedId: string;
  /** Events of the balances projection's types in the log. */
  readonly balanceEvents: number;
}

/**
 * Seeds `store` (opened without definitions, so events are stored exactly as given): account acc-1
 * with a deposit stored at v1 and one caused by it, `accounts` more accounts with a deposit each, an
 * account with 25 events (two pages), an account whose owner and metadata are markup, and two accounts owned by "poison".
 */
export async function seedBank(store: PostgresEventStore, accounts: number): Promise<Seeded> {
  const openedId = uuidv7();
  const oldDepositId = uuidv7();
  const causedId = uuidv7();
  const opened = (id: string, owner: string, eventId?: string): NewEvent => ({
    ...(eventId === undefined ? {} : { id: eventId }),
    type: 'AccountOpened',
    data: { accountId: id, owner, currency: 'EUR', overdraftLimit: 0 },
  });
  await store.append('BankAccount-acc-1', [
    { ...opened('acc-1', 'Ada', openedId), metadata: { correlationId: openedId } },
    {
      id: oldDepositId,
      type: 'MoneyDeposited',
      schemaVersion: 1,
      data: { accountId: 'acc-1', amount: 70 },
      metadata: { correlationId: openedId, causationId: openedId },
    },
    {
      id: causedId,
      type: 'MoneyDeposited',
      schemaVersion: 2,
      data: { accountId: 'acc-1', amount: { value: 30, currency: 'EUR' } },
      metadata: { correlationId: openedId, causationId: oldDepositId },
    },
  ]);
  for (let i = 2; i < accounts + 2; i++) {
    await store.append(`BankAccount-acc-${i}`, [
      opened(`acc-${i}`, `owner ${i}`),
      {
        type: 'MoneyDeposited',
        schemaVersion: 2,
        data: { accountId: `acc-${i}`, amount: { value: i, currency: 'EUR' } },
      },
    ]);
  }
  // A stream longer than a page (20 events).
  await store.append('BankAccount-busy', [
    opened('busy', 'Busy'),
    ...Array.from({ length: 24 }, (_, i) => ({
      type: 'MoneyDeposited',
      schemaVersion: 2,
      data: { accountId: 'busy', amount: { value: i + 1, currency: 'EUR' } },
    })),
  ]);
  await store.append('BankAccount-xss', [
    {
      ...opened('xss', XSS.data),
      metadata: { correlationId: XSS.correlation, note: XSS.metadata, [XSS.metadata]: 'as a key' },
    },
  ]);
  await store.append('BankAccount-poison', [opened('poison', 'poison')]);
  await store.append('BankAccount-poison-2', [opened('poison-2', 'poison')]);
  return { openedId, oldDepositId, causedId, balanceEvents: 3 + accounts * 2 + 25 + 3 };
}
