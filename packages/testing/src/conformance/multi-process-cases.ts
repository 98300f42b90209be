import { type EventStore, isConcurrencyConflict } from '@annals/core';
import { expect } from 'vitest';
import { collect, deliveryTimeout, settleAll, toArray } from './collect.js';
import { added, createFixtureStore, withId } from './conformance-events.js';
import type { ConformanceCase, ConformanceContext } from './conformance-types.js';

const group = 'several instances';

/** A fresh store and another instance on its log, as two processes would open them. */
async function twoInstances(ctx: ConformanceContext): Promise<[EventStore, EventStore]> {
  if (ctx.openPeer === undefined) {
    throw new Error('A store that declares multiProcess must pass openPeer to the conformance suite.');
  }
  const first = await createFixtureStore(ctx);
  return [first, await ctx.openPeer(first)];
}

/** Cases for stores that several processes share (`multiProcess`). */
export const multiProcessCases: readonly ConformanceCase[] = [
  {
    group,
    name: "an append through one instance is read by another, and wakes the other's live subscriptions",
    requires: (capabilities) => capabilities.multiProcess,
    async run(ctx) {
      const [a, b] = await twoInstances(ctx);
      await a.append('shared-1', [added('before')]);
      const toStream = b.subscribeToStream('shared-1');
      const toAll = b.subscribeToAll();
      try {
        const [history] = await collect(toStream, 1, deliveryTimeout(ctx));
        expect(history!.data).toMatchObject({ sku: 'before' });
        await collect(toAll, 1, deliveryTimeout(ctx));
        const live = withId(added('live'));
        await a.append('shared-1', [live], { expectedRevision: 0n });
        const [fromStream] = await collect(toStream, 1, deliveryTimeout(ctx));
        const [fromAll] = await collect(toAll, 1, deliveryTimeout(ctx));
        expect(fromStream!.id, 'subscribeToStream on the other instance').toBe(live.id);
        expect(fromAll!.id, 'subscribeToAll on the other instance').toBe(live.id);
        expect((await toArray(b.readStream('shared-1'))).map((e) => e.revision)).toEqual([0n, 1n]);
      } finally {
        await toStream.stop();
        await toAll.stop();
      }
    },
  },
  {
    group,
    name: 'instances racing with the same expected revision: exactly one wins, and the winning batch re-appended through the other returns the original result',
    requires: (capabilities) => capabilities.multiProcess,
    async run(ctx) {
      const [a, b] = await twoInstances(ctx);
      await a.append('race-1', [added('seed')]);
      const attempts = [withId(added('through-a')), withId(added('through-b'))];
      const outcomes = await Promise.allSettled([
        a.append('race-1', [attempts[0]!], { expectedRevision: 0n }),
        b.append('race-1', [attempts[1]!], { expectedRevision: 0n }),
      ]);
      const winners = outcomes.flatMap((o, i) => (o.status === 'fulfilled' ? [{ i, result: o.value }] : []));
      expect(winners, 'appends that won revision 1').toHaveLength(1);
      for (const outcome of outcomes) {
        if (outcome.status === 'rejected')
          expect(isConcurrencyConflict(outcome.reason), String(outcome.reason)).toBe(true);
      }
      const { i, result } = winners[0]!;
      const other = i === 0 ? b : a;
      expect(await other.append('race-1', [attempts[i]!], { expectedRevision: 0n })).toEqual(result);
      const [fromA, fromB] = await settleAll(
        toArray(a.readStream('race-1')),
        toArray(b.readStream('race-1')),
      );
      expect(fromA.map((e) => e.id)).toEqual(fromB.map((e) => e.id));
      expect(fromA).toHaveLength(2);
    },
  },
];
