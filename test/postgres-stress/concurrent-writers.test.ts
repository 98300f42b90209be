import { type AppendResult, isConcurrencyConflict, type RecordedEvent } from '@annals/core';
import type { PostgresEventStore } from '@annals/postgres';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventCollector } from './support/event-collector.js';
import { checkStreamRevisions, compareWithLog } from './support/log-checks.js';
import { openStore } from './support/open-store.js';
import { SeededRandom } from './support/seeded-random.js';
import { connectRaw, databaseUrl, dropSchema, sleep } from './support/server.js';

const SCHEMA = 'annals_stress_concurrent';
const WRITERS = 16;
const STREAMS = 200;
const APPENDS_PER_WRITER = 30;
const SUBSCRIBERS = 3;
/** Bounds each wait only to catch a hang: a transaction open elsewhere on the shared server holds readers back meanwhile. */
const BOUND_MS = 60_000;

interface Committed {
  readonly writer: number;
  readonly streamId: string;
  readonly ids: readonly string[];
  readonly result: AppendResult;
}

describe.skipIf(!databaseUrl)('PostgresEventStore: 16 concurrent writers, 3 subscribers', () => {
  const random = new SeededRandom();
  const stores: PostgresEventStore[] = [];

  beforeAll(async () => {
    await dropSchema(SCHEMA);
    stores.push(await openStore(SCHEMA, { poolMax: 2 }));
    const more = Array.from({ length: WRITERS - 1 }, () => openStore(SCHEMA, { poolMax: 2, migrate: false }));
    stores.push(...(await Promise.all(more)));
  });

  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await dropSchema(SCHEMA);
  });

  it('every subscriber receives every committed event exactly once, in the order of the final log', async () => {
    const seed = `(seed ${random.seed})`;
    const known = new Map<string, bigint>();
    const committed: Committed[] = [];
    const rejectedIds = new Set<string>();
    const completionOrder: bigint[] = [];

    // Two subscribers follow from the start; the third joins halfway and catches up while writes go on.
    const collectors: EventCollector[] = [];
    const subscribe = (i: number) =>
      collectors.push(new EventCollector(`subscriber ${i}`, stores[i % stores.length]!.subscribeToAll()));
    for (let i = 0; i < SUBSCRIBERS - 1; i++) subscribe(i);

    let appendsDone = 0;
    const writer = async (w: number) => {
      const store = stores[w]!;
      for (let n = 0; n < APPENDS_PER_WRITER; n++) {
        const streamId = `account-${random.int(0, STREAMS - 1)}`;
        const size = random.int(1, 3);
        const ids = Array.from({ length: size }, () => crypto.randomUUID());
        const events = ids.map((id, k) => ({ id, type: 'Deposited', data: { writer: w, n, k } }));
        const last = known.get(streamId);
        // Half the appends check a revision that may already be stale; the rest append to 'any'.
        const expectedRevision = random.next() < 0.5 ? 'any' : (last ?? 'no_stream');
        try {
          // Half the appends run in a transaction that stays open a little after the append: its
          // transaction id is taken, and appends that started later commit first.
          const result =
            random.next() < 0.5
              ? await store.append(streamId, events, { expectedRevision })
              : await store.transaction(async (transaction) => {
                  const appended = await store.append(streamId, events, { expectedRevision, transaction });
                  await sleep(random.int(0, 20));
                  return appended;
                });
          committed.push({ writer: w, streamId, ids, result });
          completionOrder.push(result.firstPosition);
          if ((known.get(streamId) ?? -1n) < result.nextExpectedRevision) {
            known.set(streamId, result.nextExpectedRevision);
          }
        } catch (error) {
          if (!isConcurrencyConflict(error)) throw error;
          for (const id of ids) rejectedIds.add(id);
        }
        if (++appendsDone === (WRITERS * APPENDS_PER_WRITER) / 2) subscribe(SUBSCRIBERS - 1);
      }
    };
    // Meanwhile, other clients of the server take transaction ids and sit on them for a moment, as
    // any application sharing the database does: readers must wait for them, not skip past.
    let writing = true;
    const staller = (client: pg.Client) => async () => {
      while (writing) {
        await client.query('BEGIN');
        await client.query('SELECT pg_current_xact_id()');
        await sleep(random.int(0, 30));
        await client.query('COMMIT');
      }
    };
    const stallers = await Promise.all([connectRaw(), connectRaw()]);
    const stalling = Promise.all(stallers.map((client) => staller(client)()));
    try {
      await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
    } finally {
      writing = false;
      await stalling;
      await Promise.all(stallers.map((client) => client.end()));
    }

    const committedIds = new Set(committed.flatMap((c) => c.ids));
    expect(committedIds.size, `no append succeeded ${seed}`).toBeGreaterThan(0);

    // The final log, read once every committed event is visible (a transaction elsewhere on the
    // server may hold readers back for a moment; that delays, it must not lose).
    let log: RecordedEvent[] = [];
    const deadline = Date.now() + BOUND_MS;
    do {
      log = [];
      for await (const e of stores[0]!.readAll()) log.push(e);
    } while (log.length < committedIds.size && Date.now() < deadline);

    const logIds = new Set(log.map((e) => e.id));
    const lost = [...committedIds].filter((id) => !logIds.has(id));
    expect(
      lost.length,
      `the final readAll lacks ${lost.length} committed events, e.g. ${lost[0]} ${seed}`,
    ).toBe(0);
    const leaked = log.filter((e) => rejectedIds.has(e.id)).map((e) => `${e.streamId}@${e.revision}`);
    expect(leaked, `events of appends rejected with ConcurrencyConflict were stored ${seed}`).toEqual([]);
    expect(log.length, `the final readAll holds events no append reported as committed ${seed}`).toBe(
      committedIds.size,
    );
    expect(checkStreamRevisions(log), `streams are not gapless ${seed}`).toEqual([]);

    const positions = new Map(log.map((e) => [e.id, e.position]));
    const misreported = committed.filter(
      (c) =>
        positions.get(c.ids[0]!) !== c.result.firstPosition ||
        positions.get(c.ids.at(-1)!) !== c.result.lastPosition,
    );
    expect(
      misreported.map((c) => `${c.streamId}: reported ${c.result.firstPosition}..${c.result.lastPosition}`),
      `append results name other positions than the log holds ${seed}`,
    ).toEqual([]);

    for (const collector of collectors) {
      await collector.waitFor((events) => events.length >= log.length, BOUND_MS);
    }
    // Give a subscriber that got everything a moment more, so a late duplicate would show.
    await collectors[0]!.waitFor((events) => events.length > log.length, 300);
    for (const collector of collectors) await collector.stop();

    for (const collector of collectors) {
      expect(collector.error, `${collector.name} ended with an error ${seed}`).toBeUndefined();
      expect(compareWithLog(collector.name, collector.events, log), seed).toEqual([]);
    }

    // Evidence that the run did exercise out-of-order commits: some append finished after another
    // whose events come later in the log.
    let inversions = 0;
    for (let i = 1; i < completionOrder.length; i++) {
      if (completionOrder[i]! < completionOrder[i - 1]!) inversions++;
    }
    expect(
      inversions,
      `appends completed in log order only: no out-of-order commit was tested ${seed}`,
    ).toBeGreaterThan(0);
  });
});
