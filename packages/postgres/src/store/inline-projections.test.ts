import { defineProjection, InvalidArgument, ProjectionDefinitionInvalid, StreamNotFound } from '@annals/core';
import { describe, expect, it } from 'vitest';
import { Deposited, Noted, usePGliteReadModel } from '../../../../test/support/projection-read-model.js';
import type { PostgresProjectionContext } from '../projection/postgres-projection-runner.js';
import { PostgresEventStore } from './postgres-event-store.js';

const setup = usePGliteReadModel();

describe('inline projections (PGlite)', () => {
  it('apply in the append transaction; a failing handler fails the append and nothing is stored', async () => {
    const { store, balance, exactlyOnce } = await setup(({ apply }) => [
      defineProjection({
        name: 'inline-balances',
        events: [Deposited],
        handlers: {
          Deposited: async (e, { tx }: PostgresProjectionContext) => {
            if (e.data.amount < 0) throw new RangeError('negative deposit');
            await apply(tx, e);
          },
        },
      }),
    ]);
    const first = Deposited.create({ accountId: 'x', amount: 10 });
    const firstId = '0190a4d2-0000-7000-8000-0000000000aa';
    await store.append('account-x', [{ ...first, id: firstId }], { expectedRevision: 'no_stream' });
    expect(await balance('x')).toBe(10); // read-your-writes: applied when append resolved

    await expect(
      store.append('account-y', [
        Deposited.create({ accountId: 'y', amount: 5 }),
        Deposited.create({ accountId: 'y', amount: -1 }),
      ]),
    ).rejects.toThrow('negative deposit');
    await expect(async () => {
      for await (const _ of store.readStream('account-y')) void _;
    }).rejects.toBeInstanceOf(StreamNotFound);
    expect(await balance('y')).toBe(0);

    // An idempotent re-append stores nothing and applies nothing again.
    await store.append('account-x', [{ ...first, id: firstId }], { expectedRevision: 'no_stream' });
    expect(await balance('x')).toBe(10);
    expect(await exactlyOnce()).toEqual({ events: 1, applied: 1, maxTimes: 1 });
    await store.close();
  });

  it('appendToStreams applies them to every write of the call, in its one transaction', async () => {
    const { store, balance } = await setup(({ apply }) => [
      defineProjection({
        name: 'inline-balances',
        events: [Deposited],
        handlers: { Deposited: async (e, { tx }: PostgresProjectionContext) => apply(tx, e) },
      }),
    ]);
    await store.appendToStreams([
      { streamId: 'account-x', events: [Deposited.create({ accountId: 'x', amount: 3 })] },
      { streamId: 'account-y', events: [Deposited.create({ accountId: 'y', amount: 4 })] },
    ]);
    expect([await balance('x'), await balance('y')]).toEqual([3, 4]);
    await expect(
      store.appendToStreams(
        [
          { streamId: 'account-x', events: [Deposited.create({ accountId: 'x', amount: 1 })] },
          { streamId: 'account-z', events: [Deposited.create({ accountId: 'z', amount: 1 })] },
        ],
        { condition: { failIfEventsMatch: { items: [{ types: ['Deposited'] }] } } },
      ),
    ).rejects.toMatchObject({ code: 'APPEND_CONDITION_FAILED' });
    expect([await balance('x'), await balance('z')]).toEqual([3, 0]);
    await store.close();
  });

  it('applies a batch projection inline: the appended events in one call, in the append transaction', async () => {
    const calls: number[] = [];
    const { store, balance, exactlyOnce } = await setup(({ applyAll }) => [
      defineProjection({
        name: 'inline-batch',
        events: [Deposited],
        handleBatch: async (events, { tx }: PostgresProjectionContext) => {
          calls.push(events.length);
          if (events.some((e) => e.data.amount < 0)) throw new RangeError('negative deposit');
          await applyAll(tx, events);
        },
      }),
    ]);
    await store.append('account-x', [
      Deposited.create({ accountId: 'x', amount: 10 }),
      Deposited.create({ accountId: 'x', amount: 5 }),
      Noted.create({ text: 'not handled' }),
    ]);
    expect(calls).toEqual([2]);
    expect(await balance('x')).toBe(15);
    await expect(
      store.append('account-y', [Deposited.create({ accountId: 'y', amount: -1 })]),
    ).rejects.toThrow('negative deposit');
    expect(await exactlyOnce()).toEqual({ events: 2, applied: 2, maxTimes: 1 });
    await store.close();
  });

  it('refuses inline projections given twice, sharded, or not as an array, before connecting', async () => {
    const projection = (name: string, shards?: number) =>
      defineProjection({
        name,
        events: [Deposited],
        ...(shards ? { shards } : {}),
        handlers: { Deposited: () => {} },
      });
    const create = (inlineProjections: unknown) =>
      PostgresEventStore.create(
        { connectionString: 'postgres://nobody@127.0.0.1:1/none' },
        {
          events: [Deposited],
          inlineProjections: inlineProjections as never,
        },
      );
    await expect(create([projection('a'), projection('a')])).rejects.toThrow(ProjectionDefinitionInvalid);
    await expect(create([projection('a'), projection('a')])).rejects.toThrow(/given twice/);
    await expect(create([projection('s', 2)])).rejects.toThrow(/cannot be sharded/);
    await expect(create(projection('a'))).rejects.toThrow(InvalidArgument);
  });
});
