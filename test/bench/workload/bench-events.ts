import {
  defineEvent,
  type EventRegistryOptions,
  type NewEvent,
  personal,
  UpcasterRegistry,
} from '@annals/core';
import { z } from 'zod';

/**
 * The events the benchmark writes: a small, typical payload (about 110 bytes of JSON), validated by
 * zod on every append like an application's events are.
 */
export const BenchDeposited = defineEvent('BenchDeposited', {
  version: 1,
  schema: z.object({
    accountId: z.string(),
    amount: z.number().int(),
    currency: z.string().length(3),
    note: z.string(),
  }),
});

/**
 * An event type at version 4 whose history is stored at version 1: reading it runs the 3-step chain
 * v1 -> v2 -> v3 -> v4 and validates the result.
 */
export const BenchTransferred = defineEvent('BenchTransferred', {
  version: 4,
  schema: z.object({
    accountId: z.string(),
    amount: z.object({ minor: z.number().int(), currency: z.string().length(3) }),
    note: z.string(),
    channel: z.enum(['web', 'branch', 'api']),
  }),
});

/** The version-1 shape of {@link BenchTransferred}, as stored. */
export interface TransferredV1 {
  readonly account: string;
  readonly amount: number;
  readonly currency: string;
  readonly note: string;
}

/** A fresh upcaster registry with the 3-step chain (registries are sealed by the store using them). */
export function benchUpcasters(): UpcasterRegistry {
  return new UpcasterRegistry()
    .register({
      type: 'BenchTransferred',
      from: 1,
      to: 2,
      up: (v1: TransferredV1) => ({
        accountId: v1.account,
        amount: v1.amount,
        currency: v1.currency,
        note: v1.note,
      }),
    })
    .register({
      type: 'BenchTransferred',
      from: 2,
      to: 3,
      up: (v2: { accountId: string; amount: number; currency: string; note: string }) => ({
        accountId: v2.accountId,
        amount: { minor: v2.amount, currency: v2.currency },
        note: v2.note,
      }),
    })
    .register({
      type: 'BenchTransferred',
      from: 3,
      to: 4,
      up: (v3: Record<string, unknown>) => ({ ...v3, channel: 'web' }),
    });
}

/** {@link BenchDeposited} with its note as personal data of the account: sealed on append, opened on read. */
export const BenchDepositedPersonal = defineEvent('BenchDepositedPersonal', {
  schema: BenchDeposited.schema.extend({
    note: personal(z.string(), { subject: (data) => data.accountId }),
  }),
});

/**
 * Store options every benchmark store gets: both definitions and the chain, so every read path can
 * upcast. With `personalData`, also {@link BenchDepositedPersonal} (the store then seals it).
 */
export function benchStoreOptions(
  variant: { readonly personalData?: boolean | undefined } = {},
): EventRegistryOptions {
  const events = [
    BenchDeposited,
    BenchTransferred,
    ...(variant.personalData ? [BenchDepositedPersonal] : []),
  ];
  // strict: false, so one workload can measure an undefined type (stored as plain JSON, unvalidated).
  return { events, upcasters: benchUpcasters(), strict: false };
}

/** The data of the `i`-th deposit, to one of `accounts` accounts: the payload the baselines write too. */
export function depositData(i: number, accounts = 100_000) {
  return {
    accountId: `account-${String(i % accounts).padStart(6, '0')}`,
    amount: 1_000 + (i % 997),
    currency: 'EUR',
    note: 'salary for November, paid by the benchmark employer',
  };
}

/** A new deposit event (the store assigns its id). */
export function deposit(i: number, accounts?: number): NewEvent {
  return BenchDeposited.create(depositData(i, accounts));
}

/** `size` deposits starting at `from`, spread over `accounts` accounts. */
export function deposits(from: number, size: number, accounts?: number): NewEvent[] {
  return Array.from({ length: size }, (_, k) => deposit(from + k, accounts));
}

/** `size` version-1 transfers, to append with `{ import: true }`. */
export function oldTransfers(from: number, size: number): NewEvent[] {
  return Array.from({ length: size }, (_, k) => {
    const i = from + k;
    const data: TransferredV1 = {
      account: `account-${String(i % 100_000).padStart(6, '0')}`,
      amount: 1_000 + (i % 997),
      currency: 'EUR',
      note: 'salary for November, paid by the benchmark employer',
    };
    return { type: BenchTransferred.type, schemaVersion: 1, data };
  });
}
