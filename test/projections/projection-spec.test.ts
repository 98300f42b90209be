import { defineEvent, defineProjection, UpcasterRegistry } from '@annals/core';
import { ProjectionSpec } from '@annals/testing';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

const AccountOpened = defineEvent('AccountOpened', { schema: z.object({ accountId: z.string() }) });
const MoneyDeposited = defineEvent('MoneyDeposited', {
  version: 2,
  schema: z.object({ accountId: z.string(), amount: z.object({ value: z.number(), currency: z.string() }) }),
});
const upcasters = new UpcasterRegistry().register({
  type: 'MoneyDeposited',
  from: 1,
  to: 2,
  up: (v1: { accountId: string; amount: number }) => ({
    accountId: v1.accountId,
    amount: { value: v1.amount, currency: 'EUR' },
  }),
});

interface Balances {
  readonly balances: Record<string, number>;
}

const AccountBalances = defineProjection({
  name: 'account-balances',
  events: [AccountOpened, MoneyDeposited],
  handlers: {
    AccountOpened: (e, { balances }: Balances) => {
      balances[e.data.accountId] = 0;
    },
    MoneyDeposited: (e, { balances }: Balances) => {
      if (!(e.data.accountId in balances)) throw new Error(`account ${e.data.accountId} was never opened`);
      balances[e.data.accountId] = (balances[e.data.accountId] ?? 0) + e.data.amount.value;
    },
  },
});

const spec = () =>
  ProjectionSpec.for(AccountBalances, {
    events: [AccountOpened, MoneyDeposited],
    upcasters,
    context: (): Balances => ({ balances: {} }),
    state: (c) => c.balances,
  });

describe('ProjectionSpec', () => {
  it('runs the projection over the given events and compares the read model', async () => {
    await spec()
      .given([
        { streamId: 'account-1', ...AccountOpened.create({ accountId: '1' }) },
        {
          streamId: 'account-1',
          ...MoneyDeposited.create({ accountId: '1', amount: { value: 100, currency: 'EUR' } }),
        },
        { streamId: 'account-2', ...AccountOpened.create({ accountId: '2' }) },
        // stored at v1, read through the upcaster
        {
          streamId: 'account-2',
          type: 'MoneyDeposited',
          schemaVersion: 1,
          data: { accountId: '2', amount: 7 },
        },
      ])
      .then({ '1': 100, '2': 7 });
  });

  it('fails when the read model differs', async () => {
    await expect(
      spec()
        .given([{ streamId: 'account-1', ...AccountOpened.create({ accountId: '1' }) }])
        .then({ '1': 5 }),
    ).rejects.toThrow(/expected/);
  });

  it('reports a failing handler, naming the event', async () => {
    const failed = await spec()
      .given([
        {
          streamId: 'account-9',
          ...MoneyDeposited.create({ accountId: '9', amount: { value: 1, currency: 'EUR' } }),
        },
      ])
      .thenFails('account 9 was never opened');
    expect(failed.event?.streamId).toBe('account-9');
    await expect(
      spec()
        .given([
          {
            streamId: 'account-9',
            ...MoneyDeposited.create({ accountId: '9', amount: { value: 1, currency: 'EUR' } }),
          },
        ])
        .then({}),
    ).rejects.toThrow(/ProjectionSpec\(account-balances\): ProjectionFailed: .*account 9 was never opened/);
    await expect(spec().given([]).thenFails()).rejects.toThrow(
      /expected a handler to fail, but every event was applied/,
    );
  });

  it('runs custom assertions with thenState, and refuses to be awaited without then', async () => {
    const context = await spec()
      .given([{ streamId: 'account-1', ...AccountOpened.create({ accountId: '1' }) }])
      .thenState((state) => expect(Object.keys(state as object)).toEqual(['1']));
    expect(context.balances).toEqual({ '1': 0 });
    await expect(async () => await (spec().given([]) as unknown as PromiseLike<unknown>)).rejects.toThrow(
      /Did you await the scenario without calling then/,
    );
  });

  describe('with a batch projection', () => {
    const BatchBalances = defineProjection({
      name: 'batch-balances',
      events: [AccountOpened, MoneyDeposited],
      handleBatch: (events, { balances, calls }: Balances & { calls: number[] }) => {
        calls.push(events.length);
        for (const e of events) {
          if (e.type === 'AccountOpened') balances[e.data.accountId] = 0;
          else if (!(e.data.accountId in balances))
            throw new Error(`account ${e.data.accountId} was never opened`);
          else balances[e.data.accountId] = (balances[e.data.accountId] ?? 0) + e.data.amount.value;
        }
      },
    });
    const history = [
      { streamId: 'account-1', ...AccountOpened.create({ accountId: '1' }) },
      ...[5, 7, 11].map((value) => ({
        streamId: 'account-1',
        ...MoneyDeposited.create({ accountId: '1', amount: { value, currency: 'EUR' } }),
      })),
    ];
    const batchSpec = (batchSize?: number) =>
      ProjectionSpec.for(BatchBalances, {
        events: [AccountOpened, MoneyDeposited],
        upcasters,
        context: () => ({ balances: {} as Record<string, number>, calls: [] as number[] }),
        state: (c) => c.balances,
        ...(batchSize === undefined ? {} : { batchSize }),
      });

    it('gives the same read model in one batch and event by event', async () => {
      const whole = await batchSpec().given(history).then({ '1': 23 });
      expect(whole.calls).toEqual([4]);
      const single = await batchSpec(1).given(history).then({ '1': 23 });
      expect(single.calls).toEqual([1, 1, 1, 1]);
      const cut = await batchSpec(3).given(history).then({ '1': 23 });
      expect(cut.calls).toEqual([3, 1]);
      expect(() => batchSpec(0)).toThrow(/batchSize to be a positive integer, found 0/);
    });

    it('names the event a failing batch fails on', async () => {
      const failed = await batchSpec()
        .given([
          ...history,
          {
            streamId: 'account-9',
            ...MoneyDeposited.create({ accountId: '9', amount: { value: 1, currency: 'EUR' } }),
          },
        ])
        .thenFails('account 9 was never opened');
      expect(failed.event).toMatchObject({ streamId: 'account-9', position: 5n });
    });
  });
});
