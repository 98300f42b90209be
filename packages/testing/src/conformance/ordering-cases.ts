import { type ExpectedRevisionValue, isConcurrencyConflict, type RecordedEvent } from '@annals/core';
import { expect } from 'vitest';
import { collect, deliveryTimeout, settleAll, toArray } from './collect.js';
import {
  added,
  appendInBatches,
  createFixtureStore,
  logIds,
  note,
  streamIds,
  withId,
} from './conformance-events.js';
import type { ConformanceCase } from './conformance-types.js';

const group = 'ordering';

/** How many appenders race for each revision. */
const RACERS = 20;

/** Lets other tasks (writers, timers, I/O) run before a reader polls again. Not a timed assertion. */
const yieldToOthers = () => new Promise<void>((resolve) => setTimeout(resolve, 1));

/** Cases for revisions, global positions and concurrent writers and readers. */
export const orderingCases: readonly ConformanceCase[] = [
  {
    group,
    name: 'revisions are gapless per stream and positions strictly increase along the log and along each stream',
    async run(ctx) {
      const store = await createFixtureStore(ctx);
      const streams = ['s-a', 's-b', 's-c'];
      const last = new Map<string, bigint>();
      for (let i = 0; i < 24; i++) {
        const streamId = streams[(i * 7) % 3]!;
        const size = 1 + (i % 3);
        const result = await store.append(
          streamId,
          Array.from({ length: size }, (_, k) => added(`${i}-${k}`)),
          { expectedRevision: last.get(streamId) ?? 'no_stream' },
        );
        last.set(streamId, result.nextExpectedRevision);
      }
      const all = await toArray(store.readAll());
      for (let i = 1; i < all.length; i++) {
        expect(all[i]!.position > all[i - 1]!.position, `position at log index ${i}`).toBe(true);
      }
      for (const streamId of streams) {
        const events = await toArray(store.readStream(streamId));
        expect(events.map((e) => e.revision)).toEqual(events.map((_, i) => BigInt(i)));
        expect(BigInt(events.length - 1)).toBe(last.get(streamId));
        for (let i = 1; i < events.length; i++)
          expect(events[i]!.position > events[i - 1]!.position).toBe(true);
        expect(events.map((e) => e.id)).toEqual(all.filter((e) => e.streamId === streamId).map((e) => e.id));
      }
    },
  },
  {
    group,
    name: `of ${RACERS} concurrent appenders with the same exact expected revision exactly one wins each revision; the others get ConcurrencyConflict and write nothing`,
    async run(ctx) {
      const store = await createFixtureStore(ctx);
      const expectations: ExpectedRevisionValue[] = ['no_stream', 0n, 1n, 2n];
      for (const [round, expected] of expectations.entries()) {
        const attempts = Array.from({ length: RACERS }, (_, w) =>
          withId(added(`round-${round}-writer-${w}`)),
        );
        const outcomes = await Promise.allSettled(
          attempts.map((event) => store.append('race', [event], { expectedRevision: expected })),
        );
        const winners = outcomes.flatMap((o, w) =>
          o.status === 'fulfilled' ? [{ w, result: o.value }] : [],
        );
        expect(winners.length, `winners of the race for expected revision ${String(expected)}`).toBe(1);
        expect(winners[0]!.result.nextExpectedRevision).toBe(BigInt(round));
        for (const outcome of outcomes) {
          if (outcome.status === 'fulfilled') continue;
          expect(isConcurrencyConflict(outcome.reason), String(outcome.reason)).toBe(true);
          expect(outcome.reason).toMatchObject({ streamId: 'race', expected, actual: BigInt(round) });
        }
        const ids = await streamIds(store, 'race');
        expect(ids).toHaveLength(round + 1);
        expect(ids.at(-1)).toBe(attempts[winners[0]!.w]!.id);
      }
      const events = await toArray(store.readStream('race'));
      expect(events.map((e) => e.revision)).toEqual([0n, 1n, 2n, 3n]);
      expect(await logIds(store)).toHaveLength(4);
    },
  },
  {
    group,
    name: `${RACERS} appenders that retry on ConcurrencyConflict all get written exactly once, in gapless revisions, each revision won once`,
    async run(ctx) {
      const store = await createFixtureStore(ctx);
      await store.append('contended', [added('seed')], { expectedRevision: 'no_stream' });
      const EACH = 2;
      const total = RACERS * EACH;
      // Each lost race means another append won in between, so nobody can lose more than `total` times.
      const MAX_LOSSES = total;
      const won: bigint[] = [];
      const writer = async (w: number): Promise<string[]> => {
        const mine: string[] = [];
        let losses = 0;
        for (let k = 0; k < EACH; k++) {
          const event = withId(added(`writer-${w}-${k}`));
          for (;;) {
            const [last] = await toArray(
              store.readStream('contended', { direction: 'backwards', maxCount: 1 }),
            );
            try {
              const result = await store.append('contended', [event], { expectedRevision: last!.revision });
              expect(result.nextExpectedRevision).toBe(last!.revision + 1n);
              won.push(last!.revision);
              mine.push(event.id);
              break;
            } catch (error) {
              if (!isConcurrencyConflict(error)) throw error;
              expect(
                error.actual,
                'a ConcurrencyConflict whose actual revision is the expected one',
              ).not.toBe(last!.revision);
              if (++losses > MAX_LOSSES) {
                throw new Error(
                  `writer ${w} lost ${losses} races, more than the ${total} appends that can win; last read revision ${last!.revision}, the store reported ${String(error.actual)}.`,
                );
              }
            }
          }
        }
        return mine;
      };
      const written = await settleAll(...Array.from({ length: RACERS }, (_, w) => writer(w)));

      const events = await toArray(store.readStream('contended'));
      expect(events.map((e) => e.revision)).toEqual(Array.from({ length: total + 1 }, (_, i) => BigInt(i)));
      expect([...won].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(
        Array.from({ length: total }, (_, i) => BigInt(i)),
      );
      const stored = events.slice(1).map((e) => e.id);
      expect(new Set(stored).size).toBe(total);
      expect([...stored].sort()).toEqual(written.flat().sort());
    },
  },
  {
    group,
    name: 'concurrent first appends to distinct streams all succeed',
    async run(ctx) {
      const store = await createFixtureStore(ctx);
      const results = await settleAll(
        ...Array.from({ length: RACERS }, (_, i) =>
          store.append(`fresh-${i}`, [added(`${i}`), note(`${i}`)], { expectedRevision: 'no_stream' }),
        ),
      );
      expect(results.map((r) => r.nextExpectedRevision)).toEqual(results.map(() => 1n));
      const positions = results.flatMap((r) => [r.firstPosition, r.lastPosition]);
      expect(new Set(positions).size).toBe(positions.length);
      expect(await logIds(store)).toHaveLength(RACERS * 2);
    },
  },
  {
    group,
    name: 'a reader paging through readAll while many writers commit never sees a lower position after a higher one, and in the end has seen every event exactly once',
    async run(ctx) {
      const store = await createFixtureStore(ctx);
      const STREAMS = 8;
      const PER_STREAM = 25;
      let writersDone = false;
      const writers = (async () => {
        try {
          return await settleAll(
            ...Array.from({ length: STREAMS }, (_, s) => appendInBatches(store, `stream-${s}`, PER_STREAM)),
          );
        } finally {
          writersDone = true;
        }
      })();
      const reader = (async () => {
        const seen: RecordedEvent[] = [];
        let from = 0n;
        for (;;) {
          const finished = writersDone;
          const page = await toArray(store.readAll({ fromPosition: from, maxCount: 7 }));
          for (const event of page) {
            const previous = seen.at(-1);
            if (previous !== undefined && event.position <= previous.position) {
              throw new Error(
                `readAll returned position ${event.position} after position ${previous.position} (event ${event.id} of ${event.streamId}).`,
              );
            }
            seen.push(event);
          }
          if (page.length > 0) from = page.at(-1)!.position + 1n;
          else if (finished) return seen;
          else await yieldToOthers();
        }
      })();
      const [written, seen] = await settleAll(writers, reader);

      const seenIds = seen.map((e) => e.id);
      expect(new Set(seenIds).size, 'distinct events seen').toBe(seenIds.length);
      expect(seenIds).toHaveLength(STREAMS * PER_STREAM);
      expect([...seenIds].sort()).toEqual(written.flat().sort());
      expect(seenIds).toEqual(await logIds(store));
    },
  },
  {
    group,
    name: "a stream's events appear in the global log in revision order, even while writers race on it with expectedRevision 'any' and readers page and subscribe concurrently",
    async run(ctx) {
      const store = await createFixtureStore(ctx);
      const STREAMS = ['hot-0', 'hot-1', 'hot-2'];
      const WRITERS = 12;
      const EACH = 6;
      const total = WRITERS * EACH;
      const subscription = store.subscribeToAll();
      try {
        let writersDone = false;
        const writers = (async () => {
          try {
            return await settleAll(
              ...Array.from({ length: WRITERS }, async (_, w) => {
                for (let k = 0; k < EACH; k++) {
                  const streamId = STREAMS[(w + k) % STREAMS.length]!;
                  await store.append(streamId, [added(`writer-${w}-${k}`)], { expectedRevision: 'any' });
                }
              }),
            );
          } finally {
            writersDone = true;
          }
        })();
        // Each reader must see every stream's revisions as 0, 1, 2, ... in the order it reads the log.
        const checkStreamOrder = (what: string) => {
          const next = new Map<string, bigint>();
          return (event: RecordedEvent) => {
            const expected = next.get(event.streamId) ?? 0n;
            if (event.revision !== expected) {
              throw new Error(
                `${what} delivered revision ${event.revision} of stream ${event.streamId} at position ${event.position} where revision ${expected} was due: the global log does not keep the stream's revision order.`,
              );
            }
            next.set(event.streamId, expected + 1n);
          };
        };
        const pager = (async () => {
          const check = checkStreamOrder('a readAll reader paging while writers raced');
          let seen = 0;
          let from = 0n;
          for (;;) {
            const finished = writersDone;
            const page = await toArray(store.readAll({ fromPosition: from, maxCount: 5 }));
            for (const event of page) check(event);
            seen += page.length;
            if (page.length > 0) from = page.at(-1)!.position + 1n;
            else if (finished) return seen;
            else await yieldToOthers();
          }
        })();
        const [, paged] = await settleAll(writers, pager);
        expect(paged, 'events the paging reader saw').toBe(total);

        const subscribed = await collect(subscription, total, deliveryTimeout(ctx));
        subscribed.forEach(checkStreamOrder('subscribeToAll'));
        const all = await toArray(store.readAll());
        all.forEach(checkStreamOrder('readAll after the writers finished'));
        expect(all).toHaveLength(total);
        for (const streamId of STREAMS) {
          const events = await toArray(store.readStream(streamId));
          for (let i = 1; i < events.length; i++) {
            expect(
              events[i]!.position > events[i - 1]!.position,
              `position of revision ${i} of ${streamId} above that of revision ${i - 1}`,
            ).toBe(true);
          }
        }
      } finally {
        await subscription.stop();
      }
    },
  },
];
