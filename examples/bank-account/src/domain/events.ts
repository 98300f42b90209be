import { defineEvent, type EventData, isForgotten, personal, UpcasterRegistry } from '@annals/core';
import { z } from 'zod';

// #region events
/** An amount of money in minor units (cents) and its currency. */
export const Money = z.object({ value: z.number().int(), currency: z.string().length(3) });

export const AccountOpened = defineEvent('AccountOpened', {
  schema: z.object({
    accountId: z.string(),
    // The customer who holds the account: an id, never a name, so tags and queries hold no personal
    // data. Accounts opened without one are their own customer (see `customerOf`).
    customerId: z.string().optional(),
    // Personal data of the account holder (the subject: the customer): sealed in the log, and
    // FORGOTTEN on every read once `forget(store, customerId)` destroyed its key.
    owner: personal(z.string(), { subject: (data) => customerOf(data) }),
    currency: z.string().length(3),
    overdraftLimit: z.number().int().nonnegative(),
  }),
  // Tags: the daily transfer limit finds a customer's accounts by them (see daily-transfer-limit.ts).
  tags: (d) => [`customer:${customerOf(d)}`, `account:${d.accountId}`],
});

/** The customer of an opened account: its `customerId`, or the account id when it has none. */
export function customerOf(data: { readonly accountId: string; readonly customerId?: string | undefined }) {
  return data.customerId ?? data.accountId;
}

/** Version 2 carries a currency; version 1 stored a bare number (see `upcasters`). */
export const MoneyDeposited = defineEvent('MoneyDeposited', {
  version: 2,
  schema: z.object({ accountId: z.string(), amount: Money, transferId: z.string().optional() }),
});

export const MoneyWithdrawn = defineEvent('MoneyWithdrawn', {
  schema: z.object({ accountId: z.string(), amount: Money, transferId: z.string().optional() }),
});

export const AccountClosed = defineEvent('AccountClosed', {
  schema: z.object({ accountId: z.string() }),
});
// #endregion events

export type Opened = EventData<typeof AccountOpened>;

/** What read models and the aggregate show for the owner of a forgotten account holder. */
export const FORGOTTEN_OWNER = '(forgotten)';

/** The owner's name, or {@link FORGOTTEN_OWNER} once the holder was forgotten. */
export function ownerName(owner: Opened['owner']): string {
  return isForgotten(owner) ? FORGOTTEN_OWNER : owner;
}
export type Deposited = EventData<typeof MoneyDeposited>;
export type Withdrawn = EventData<typeof MoneyWithdrawn>;

// #region upcasters
/** Deposits stored before currencies existed were euros. Stored rows stay as they are; reads see v2. */
export const upcasters = new UpcasterRegistry().register({
  type: 'MoneyDeposited',
  from: 1,
  to: 2,
  up: (v1: { accountId: string; amount: number }) => ({
    accountId: v1.accountId,
    amount: { value: v1.amount, currency: 'EUR' },
  }),
});
// #endregion upcasters

export const TransferStarted = defineEvent('TransferStarted', {
  schema: z.object({ transferId: z.string(), from: z.string(), to: z.string(), amount: Money }),
  tags: (d) => [`account:${d.from}`],
});
export const TransferDebited = defineEvent('TransferDebited', {
  schema: z.object({ transferId: z.string() }),
});
export const TransferCompleted = defineEvent('TransferCompleted', {
  schema: z.object({ transferId: z.string() }),
});
export const TransferFailed = defineEvent('TransferFailed', {
  schema: z.object({ transferId: z.string(), reason: z.string() }),
});
export const TransferCompensated = defineEvent('TransferCompensated', {
  schema: z.object({ transferId: z.string() }),
});
/** The credit did not happen within the transfer's time limit: the debit is refunded. */
export const TransferExpired = defineEvent('TransferExpired', {
  schema: z.object({ transferId: z.string() }),
});

/** Every event the bank knows, for the store's registry. */
export const bankEvents = [
  AccountOpened,
  MoneyDeposited,
  MoneyWithdrawn,
  AccountClosed,
  TransferStarted,
  TransferDebited,
  TransferCompleted,
  TransferFailed,
  TransferCompensated,
  TransferExpired,
] as const;
