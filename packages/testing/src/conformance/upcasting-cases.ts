import {
  defineEvent,
  type EventStore,
  hasErrorCode,
  type NewEvent,
  type RecordedEvent,
  type Subscription,
  UpcasterRegistry,
  uuidv7,
} from '@annals/core';
import { expect } from 'vitest';
import { z } from 'zod';
import { collect, deliveryTimeout, toArray } from './collect.js';
import type { ConformanceCase, ConformanceContext } from './conformance-types.js';
import { captureError, expectAnnalsError } from './expect-error.js';

const group = 'upcasting';

/**
 * `Deposited` today (v3). v1 stored `amount` as a bare number of cents; v2 added the currency; v3 the
 * channel, taken from the metadata. `Credited` v1 was renamed to `Deposited` v1.
 */
const Deposited = defineEvent('Deposited', {
  version: 3,
  schema: z.object({
    account: z.string(),
    amount: z.object({ value: z.number().int(), currency: z.string().length(3) }),
    channel: z.enum(['online', 'branch', 'unknown']),
  }),
});

/** An event that never changed, read next to the upcast ones. */
const Opened = defineEvent('Opened', { schema: z.object({ account: z.string() }) });

interface DepositedV1 {
  account: string;
  amount: number;
}
interface DepositedV2 {
  account: string;
  amount: { value: number; currency: string };
}

/** What a case can do to the upcasters of its store after events were written. */
interface Sabotage {
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

async function upcastingStore(ctx: ConformanceContext): Promise<{ store: EventStore; sabotage: Sabotage }> {
  const sabotage: Sabotage = { invalid: false, throws: false, v1Inputs: [] };
  const store = await ctx.createStore({ events: [Deposited, Opened], upcasters: upcasters(sabotage) });
  return { store, sabotage };
}

function v1(account: string, cents: number, extra: Partial<NewEvent> = {}): NewEvent & { id: string } {
  return {
    id: uuidv7(),
    type: 'Deposited',
    schemaVersion: 1,
    data: { account, amount: cents },
    ...extra,
  };
}

function v2(account: string, cents: number): NewEvent & { id: string } {
  return {
    id: uuidv7(),
    type: 'Deposited',
    schemaVersion: 2,
    data: { account, amount: { value: cents, currency: 'GBP' } },
  };
}

function credited(acct: string, cents: number): NewEvent & { id: string } {
  return { id: uuidv7(), type: 'Credited', schemaVersion: 1, data: { acct, cents } };
}

function current(account: string, cents: number): NewEvent & { id: string } {
  return {
    id: uuidv7(),
    ...Deposited.create({ account, amount: { value: cents, currency: 'USD' }, channel: 'branch' }),
  };
}

/** The data each v1/v2/Credited/current helper above is read as, at v3. */
function asV3(account: string, cents: number, currency = 'EUR', channel = 'unknown') {
  return { account, amount: { value: cents, currency }, channel };
}

/** A stream `acc-1` with: v1 (metadata channel web), v2, Credited v1, current v3. */
async function mixedHistory(store: EventStore) {
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

function expectCurrent(events: readonly RecordedEvent[]): void {
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
 * Upcasting on every read path, and the import path that writes old versions. Adapter-independent:
 * every store that passes these reads old events as the current version everywhere, never rewrites
 * them, refuses imports that could not be read, and fails a read with `UpcastFailed` rather than
 * return bad data.
 */
export const upcastingCases: readonly ConformanceCase[] = [
  {
    group,
    name: 'a broken upcaster chain is refused when the store is created, with UpcasterChainInvalid',
    async run(ctx) {
      const missingStep = new UpcasterRegistry().register({
        type: 'Deposited',
        from: 1,
        to: 2,
        up: (d) => d,
      });
      const error = await expectAnnalsError(
        () => ctx.createStore({ events: [Deposited], upcasters: missingStep }),
        'UPCASTER_CHAIN_INVALID',
      );
      expect(error.message).toContain('Deposited');
      expect(error.message).toContain('v2');
    },
  },
  {
    group,
    name: 'an older schemaVersion is written only by an import: a plain append refuses it, and writes nothing',
    async run(ctx) {
      const { store } = await upcastingStore(ctx);
      const error = await expectAnnalsError(
        () => store.append('acc-1', [current('acc-1', 1), v1('acc-1', 2)]),
        'EVENT_VALIDATION_FAILED',
      );
      expect(error.message).toContain('import');
      await expectAnnalsError(
        () => store.append('acc-1', [credited('acc-1', 3)], { expectedRevision: 'any' }),
        'EVENT_VALIDATION_FAILED',
      );
      await expectAnnalsError(() => toArray(store.readStream('acc-1')), 'STREAM_NOT_FOUND');
      expect(await toArray(store.readAll())).toEqual([]);
    },
  },
  {
    group,
    name: 'an import refuses a version above the current one or below 1, and writes nothing',
    async run(ctx) {
      const { store } = await upcastingStore(ctx);
      for (const schemaVersion of [4, 0, 1.5]) {
        await expectAnnalsError(
          () =>
            store.append('acc-1', [{ ...current('acc-1', 1), schemaVersion }], {
              import: true,
            }),
          'EVENT_VALIDATION_FAILED',
        );
      }
      await expectAnnalsError(() => toArray(store.readStream('acc-1')), 'STREAM_NOT_FOUND');
    },
  },
  {
    group,
    name: 'an import whose old data does not upcast to a valid current event is refused with UpcastFailed, and writes nothing',
    async run(ctx) {
      const { store } = await upcastingStore(ctx);
      const bad = v1('acc-1', 'ten' as unknown as number);
      const error = await expectAnnalsError(
        () => store.append('acc-1', [v1('acc-1', 1), bad], { import: true }),
        'UPCAST_FAILED',
      );
      expect(error).toMatchObject({
        eventId: bad.id,
        eventType: 'Deposited',
        fromVersion: 1,
        toType: 'Deposited',
        toVersion: 3,
      });
      const issues = (error as unknown as { issues: { path: unknown[] }[] }).issues;
      expect(issues.map((i) => i.path)).toContainEqual(['amount', 'value']);
      expect(error.message).toContain(bad.id);
      expect(error.message).toContain('amount.value');
      await expectAnnalsError(() => toArray(store.readStream('acc-1')), 'STREAM_NOT_FOUND');
      expect(await toArray(store.readAll())).toEqual([]);
    },
  },
  {
    group,
    name: 'readStream reads an imported v1/v2/renamed history as the current version, forwards and backwards',
    async run(ctx) {
      const { store } = await upcastingStore(ctx);
      const { ids, expected } = await mixedHistory(store);
      const forwards = await toArray(store.readStream('acc-1'));
      expectCurrent(forwards);
      expect(forwards.map((e) => e.id)).toEqual(ids);
      expect(forwards.map((e) => e.revision)).toEqual([0n, 1n, 2n, 3n]);
      expect(forwards.map((e) => e.data)).toEqual(expected);
      expect(forwards[0]!.metadata).toEqual({ channel: 'web' });

      const backwards = await toArray(store.readStream('acc-1', { direction: 'backwards' }));
      expectCurrent(backwards);
      expect(backwards.map((e) => e.data)).toEqual([...expected].reverse());
      const page = await toArray(store.readStream('acc-1', { fromRevision: 1n, maxCount: 2 }));
      expect(page.map((e) => e.data)).toEqual(expected.slice(1, 3));
    },
  },
  {
    group,
    name: 'readAll reads old versions as the current one, and a type filter matches the upcast type (a renamed event by its new name)',
    async run(ctx) {
      const { store } = await upcastingStore(ctx);
      await store.append('other-1', [Opened.create({ account: 'other-1' })]);
      const { ids, expected } = await mixedHistory(store);

      const all = await settledLog(ctx, store, 5);
      expect(all.map((e) => e.type)).toEqual(['Opened', 'Deposited', 'Deposited', 'Deposited', 'Deposited']);
      expectCurrent(all.slice(1));
      expect(all.slice(1).map((e) => e.data)).toEqual(expected);

      const deposits = await toArray(store.readAll({ filter: { types: ['Deposited'] } }));
      expect(deposits.map((e) => e.id)).toEqual(ids);
      expect(deposits.map((e) => e.data)).toEqual(expected);
      expect(await toArray(store.readAll({ filter: { types: ['Credited'] } }))).toEqual([]);
      const prefixed = await toArray(
        store.readAll({ filter: { types: ['Deposited'], streamPrefix: 'acc-' } }),
      );
      expect(prefixed.map((e) => e.id)).toEqual(ids);
      const fromSecond = await toArray(store.readAll({ fromPosition: deposits[1]!.position, maxCount: 2 }));
      expect(fromSecond.map((e) => e.data)).toEqual(expected.slice(1, 3));
    },
  },
  {
    group,
    name: 'subscribeToStream delivers old versions upcast, in the catch-up and live',
    async run(ctx) {
      const { store } = await upcastingStore(ctx);
      const { expected } = await mixedHistory(store);
      const subscription = store.subscribeToStream('acc-1');
      try {
        const history = await collect(subscription, 4, deliveryTimeout(ctx));
        expectCurrent(history);
        expect(history.map((e) => e.data)).toEqual(expected);
        await store.append('acc-1', [v1('acc-1', 500), credited('acc-1', 600)], { import: true });
        await store.append('acc-1', [current('acc-1', 700)]);
        const live = await collect(subscription, 3, deliveryTimeout(ctx));
        expectCurrent(live);
        expect(live.map((e) => e.data)).toEqual([
          asV3('acc-1', 500),
          asV3('acc-1', 600),
          asV3('acc-1', 700, 'USD', 'branch'),
        ]);
      } finally {
        await subscription.stop();
      }
    },
  },
  {
    group,
    name: 'subscribeToAll delivers old versions upcast and filters by the upcast type, in the catch-up and live',
    async run(ctx) {
      const { store } = await upcastingStore(ctx);
      await store.append('other-1', [Opened.create({ account: 'other-1' })]);
      const { expected } = await mixedHistory(store);
      const subscription = store.subscribeToAll({ filter: { types: ['Deposited'] } });
      try {
        const history = await collect(subscription, 4, deliveryTimeout(ctx));
        expectCurrent(history);
        expect(history.map((e) => e.data)).toEqual(expected);
        await store.append('other-2', [Opened.create({ account: 'other-2' })]);
        await store.append('acc-2', [credited('acc-2', 1), v1('acc-2', 2)], { import: true });
        const live = await collect(subscription, 2, deliveryTimeout(ctx));
        expectCurrent(live);
        expect(live.map((e) => e.data)).toEqual([asV3('acc-2', 1), asV3('acc-2', 2)]);
      } finally {
        await subscription.stop();
      }
    },
  },
  {
    group,
    name: 'stored events are never rewritten: every read upcasts the stored v1 data again, and a re-import of it is idempotent',
    async run(ctx) {
      const { store, sabotage } = await upcastingStore(ctx);
      const old = v1('acc-1', 100);
      const first = await store.append('acc-1', [old], { import: true });
      await settledLog(ctx, store, 1);
      sabotage.v1Inputs.length = 0;
      await toArray(store.readStream('acc-1'));
      await toArray(store.readAll());
      await toArray(store.readStream('acc-1'));
      expect(sabotage.v1Inputs).toEqual([old.data, old.data, old.data]);

      // The stored row still holds the v1 content: re-importing it is the same event...
      expect(await store.append('acc-1', [old], { import: true })).toEqual(first);
      // ...and its id with the v3 content it is read as is another event.
      const asRead = { ...current('acc-1', 100), id: old.id, data: asV3('acc-1', 100) };
      await expectAnnalsError(() => store.append('acc-1', [asRead]), 'IDEMPOTENCY_CONFLICT');
      expect((await toArray(store.readStream('acc-1'))).map((e) => e.data)).toEqual([asV3('acc-1', 100)]);
    },
  },
  {
    group,
    name: 'an upcaster that produces invalid data fails every read path with UpcastFailed naming the event, versions and issues; no bad event is returned',
    async run(ctx) {
      const { store, sabotage } = await upcastingStore(ctx);
      const old = v1('acc-1', 100);
      await store.append('acc-1', [old], { import: true });
      await settledLog(ctx, store, 1);
      sabotage.invalid = true; // a new release ships a bad upcaster over the same stored data

      const reads: [string, () => Promise<unknown>][] = [
        ['readStream', () => toArray(store.readStream('acc-1'))],
        ['readAll', () => toArray(store.readAll())],
        ['readAll by type', () => toArray(store.readAll({ filter: { types: ['Deposited'] } }))],
        ['subscribeToStream', () => firstOf(ctx, store.subscribeToStream('acc-1'))],
        ['subscribeToAll', () => firstOf(ctx, store.subscribeToAll())],
      ];
      for (const [path, read] of reads) {
        const error = await captureError(read);
        if (!hasErrorCode(error, 'UPCAST_FAILED')) {
          throw new Error(`${path}: expected UpcastFailed (UPCAST_FAILED), found ${String(error)}`);
        }
        expect(error, path).toMatchObject({
          eventId: old.id,
          eventType: 'Deposited',
          fromVersion: 1,
          toType: 'Deposited',
          toVersion: 3,
        });
        const issues = (error as unknown as { issues: { path: unknown[] }[] }).issues;
        expect(issues.map((i) => i.path)).toContainEqual(['amount']);
        expect(error.message).toContain(old.id);
        expect(error.message).toContain('v1');
        expect(error.message).toContain('v3');
      }

      sabotage.invalid = false; // the fix ships: the untouched stored data reads again
      expect((await toArray(store.readStream('acc-1'))).map((e) => e.data)).toEqual([asV3('acc-1', 100)]);
    },
  },
  {
    group,
    name: 'an upcaster that throws fails the read with UpcastFailed naming the failing step, with the thrown error as cause',
    async run(ctx) {
      const { store, sabotage } = await upcastingStore(ctx);
      const old = credited('acc-1', 100);
      await store.append('acc-1', [old], { import: true });
      sabotage.throws = true;
      for (const read of [
        () => toArray(store.readStream('acc-1')),
        () => firstOf(ctx, store.subscribeToAll()),
      ]) {
        const error = await expectAnnalsError(read, 'UPCAST_FAILED');
        expect(error).toMatchObject({
          eventId: old.id,
          eventType: 'Credited',
          fromVersion: 1,
          toType: 'Deposited',
        });
        expect(error.message).toContain('sabotaged step');
        expect(error.message).toContain('Deposited v1');
        expect((error.cause as Error).message).toBe('sabotaged step');
      }
    },
  },
];

/**
 * Reads the whole log once it holds `count` events. `readAll` returns only events no concurrent
 * writer can still precede, so on a shared database an unrelated open transaction may hold back
 * events that were just appended; they become visible when it ends. Fails after the delivery timeout.
 */
async function settledLog(
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
async function firstOf(
  ctx: ConformanceContext,
  subscription: Subscription,
): Promise<RecordedEvent | undefined> {
  try {
    return (await collect(subscription, 1, deliveryTimeout(ctx)))[0];
  } finally {
    await subscription.stop();
  }
}
