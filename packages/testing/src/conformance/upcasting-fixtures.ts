import {
  defineEvent,
  type EventStore,
  type NewEvent,
  type RecordedEvent,
  type Subscription,
  UpcasterRegistry,
  uuidv7,
} from '@annals/core';
import { expect } from 'vitest';
import { z } from 'zod';
import { collect, deliveryTimeout, toArray } from './collect.js';
import type { ConformanceContext } from './conformance-types.js';

/** The events, upcasters and histories the upcasting cases share. */

/**
 * `Deposited` today (v3). v1 stored `amount` as a bare number of cents; v2 added the currency; v3 the
 * channel, taken from the metadata. `Credited` v1 was renamed to `Deposited` v1.
 */
export const Deposited = defineEvent('Deposited', {
  version: 3,
  schema: z.object({
    account: z.string(),
    amount: z.object({ value: z.number().int(), currency: z.string().length(3) }),
    channel: z.enum(['online', 'branch', 'unknown']),
  }),
});

/** An event that never changed, read next to the upcast ones. */
export const Opened = defineEvent('Opened', { schema: z.object({ account: z.string() }) });

interface DepositedV1 {
  account: string;
  amount: number;
}
interface DepositedV2 {
  account: string;
  amount: { value: number; currency: string };
}

/** What a case can do to the upcasters of its store after events were written. */
export interface Sabotage {
  /** When true, the step v2 -> v3 returns data the current schema refuses. */
  invalid: boolean;
  /** When true, the step v1 -> v2 throws. */
  throws: boolean;
  /** Every input the step v1 -> v2 received, in order. */
  readonly v1Inputs: unknown[];
}

function upcasters(sabotage: Sabotage): UpcasterRegistry {
  return new UpcasterRegistry()
    .register({
      type: 'Credited',
      from: 1,
      toType: 'Deposited',
      to: 1,
      up: (d: { acct: string; cents: number }): DepositedV1 => ({ account: d.acct, amount: d.cents }),
    })
    .register({
      type: 'Deposited',
      from: 1,
      to: 2,
      up: (d: DepositedV1): DepositedV2 => {
        sabotage.v1Inputs.push(d);
        if (sabotage.throws) throw new Error('sabotaged step');
        return { account: d.account, amount: { value: d.amount, currency: 'EUR' } };
      },
    })
    .register({
      type: 'Deposited',
      from: 2,
      to: 3,
      up: (d: DepositedV2, metadata) =>
        sabotage.invalid
          ? { account: d.account, amount: d.amount.value, channel: 'online' }
          : { ...d, channel: metadata.channel === 'web' ? 'online' : 'unknown' },
    });
}

export async function upcastingStore(
  ctx: ConformanceContext,
): Promise<{ store: EventStore; sabotage: Sabotage }> {
  const sabotage: Sabotage = { invalid: false, throws: false, v1Inputs: [] };
  const store = await ctx.createStore({ events: [Deposited, Opened], upcasters: upcasters(sabotage) });
  return { store, sabotage };
}

export function v1(account: string, cents: number, extra: Partial<NewEvent> = {}): NewEvent & { id: string } {
  return {
    id: uuidv7(),
    type: 'Deposited',
    schemaVersion: 1,
    data: { account, amount: cents },
    ...extra,
  };
}

export function v2(account: string, cents: number): NewEvent & { id: string } {
  return {
    id: uuidv7(),
    type: 'Deposited',
    schemaVersion: 2,
    data: { account, amount: { value: cents, currency: 'GBP' } },
  };
}

export function credited(acct: string, cents: number): NewEvent & { id: string } {
  return { id: uuidv7(), type: 'Credited', schemaVersion: 1, data: { acct, cents } };
}

export function current(account: string, cents: number): NewEvent & { id: string } {
  return {
    id: uuidv7(),
    ...Deposited.create({ account, amount: { value: cents, currency: 'USD' }, channel: 'branch' }),
  };
}

/** The data each v1/v2/Credited/current helper above is read as, at v3. */
export function asV3(account: string, cents: number, currency = 'EUR', channel = 'unknown') {
  return { account, amount: { value: cents, currency }, channel };
}

/** A stream `acc-1` with: v1 (metadata channel web), v2, Credited v1, current v3. */
export async function mixedHistory(store: EventStore) {
  const events = [
    v1('acc-1', 100, { metadata: { channel: 'web' } }),
    v2('acc-1', 200),
    credited('acc-1', 300),
    current('acc-1', 400),
  ];
  await store.append('acc-1', events, { expectedRevision: 'no_stream', import: true });
  const expected = [
    asV3('acc-1', 100, 'EUR', 'online'),
    asV3('acc-1', 200, 'GBP'),
    asV3('acc-1', 300),
    asV3('acc-1', 400, 'USD', 'branch'),
  ];
  return { ids: events.map((e) => e.id), expected };
}

export function expectCurrent(events: readonly RecordedEvent[]): void {
  for (const event of events) {
    expect({ type: event.type, schemaVersion: event.schemaVersion }).toEqual({
      type: 'Deposited',
      schemaVersion: 3,
    });
    expect(Object.isFrozen(event)).toBe(true);
    expect(Object.isFrozen(event.data)).toBe(true);
  }
}

/**
 * Reads the whole log once it holds `count` events. `readAll` returns only events no concurrent
 * writer can still precede, so on a shared database an unrelated open transaction may hold back
 * events that were just appended; they become visible when it ends. Fails after the delivery timeout.
 */
export async function settledLog(
  ctx: ConformanceContext,
  store: EventStore,
  count: number,
): Promise<RecordedEvent[]> {
  const deadline = Date.now() + deliveryTimeout(ctx);
  for (;;) {
    const events = await toArray(store.readAll());
    if (events.length >= count || Date.now() > deadline) return events;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * The first event of a subscription (stopped afterwards). Rejects with the subscription's error, or
 * when nothing arrives in time (so a store that swallows the error cannot hang the case).
 */
export async function firstOf(
  ctx: ConformanceContext,
  subscription: Subscription,
): Promise<RecordedEvent | undefined> {
  try {
    return (await collect(subscription, 1, deliveryTimeout(ctx)))[0];
  } finally {
    await subscription.stop();
  }
}
