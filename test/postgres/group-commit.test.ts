import { ConcurrencyConflict, IdempotencyConflict, uuidv7 } from '@annals/core';
import { PostgresEventStore } from '@annals/postgres';
import { toArray } from '@annals/testing';
import { describe, expect, it } from 'vitest';
import { databaseUrl, useTestDatabase } from './support/test-database.js';

// Group commit: appends issued together in one process (autocommit, different streams) share one
// statement and one transaction; each caller still gets its own result or its own error.
const db = useTestDatabase('group_commit', { pglite: false });

const event = (n: number, id: string = uuidv7()) => ({ id, type: 'T', data: { n } });

async function openCounting(options: { groupCommit?: boolean } = {}) {
  const counting = db.countingKysely('server');
  const store = await PostgresEventStore.create(
    { kysely: counting.kysely },
    { schema: db.schema('server'), ...options },
  );
  await store.migrate();
  await store.append('warm-up', [event(0)]); // the one-time start-up check
  counting.reset();
  return { store, counting };
}

/** The transaction ids of the events of `streams`, distinct. */
async function transactionsOf(store: PostgresEventStore, streams: readonly string[]): Promise<string[]> {
  const rows = await db.raw<{ tx: string }>(
    'server',
    `select distinct transaction_id::text as tx from "${store.schema}".events where stream_id = any($1)`,
    [streams],
  );
  return rows.map((r) => r.tx);
}

const groupStatements = (queries: readonly string[]) =>
  queries.filter((q) => /annals_append_group"\(/.test(q));

describe.skipIf(databaseUrl === undefined)('group commit (server)', () => {
  it('appends issued together share one statement and one transaction, each caller getting its own result', async () => {
    const { store, counting } = await openCounting();
    try {
      const streams = Array.from({ length: 17 }, (_, i) => `account-${i}`);
      const results = await Promise.all(
        streams.map((s, i) => store.append(s, [event(i), event(i + 100)], { expectedRevision: 'no_stream' })),
      );
      // The first finds nothing on its way and goes alone; the 16 issued while it runs share groups.
      const groups = groupStatements(counting.queries);
      expect(groups.length).toBeGreaterThan(0);
      expect(counting.queries).toHaveLength(1 + groups.length);
      expect(groups.length).toBeLessThan(16);
      expect(await transactionsOf(store, streams.slice(1))).toHaveLength(groups.length);
      const positions = new Set<bigint>();
      for (const [i, result] of results.entries()) {
        expect(result.nextExpectedRevision).toBe(1n);
        expect(result.lastPosition).toBe(result.firstPosition + 1n);
        positions.add(result.firstPosition).add(result.lastPosition);
        const stored = await toArray(store.readStream(streams[i]!));
        expect(stored.map((e) => [e.position, e.data])).toEqual([
          [result.firstPosition, { n: i }],
          [result.lastPosition, { n: i + 100 }],
        ]);
      }
      expect(positions.size).toBe(34);
      // The global log holds them in position order, as any other append.
      const all = (await toArray(store.readAll())).filter((e) => e.streamId.startsWith('account-'));
      expect(all).toHaveLength(34);
    } finally {
      await store.close();
    }
  });

  it('tags of grouped appends are stored with their own events', async () => {
    const { store, counting } = await openCounting();
    try {
      const streams = ['tagged-1', 'tagged-2', 'tagged-3'];
      await Promise.all(
        streams.map((s, i) =>
          store.append(s, [
            { ...event(i), tags: [`t:${i}`, 'shared'] },
            { ...event(i + 10), tags: [`t:${i}`] },
          ]),
        ),
      );
      expect(groupStatements(counting.queries)).toHaveLength(1);
      const rows = await db.raw<{ tag: string; stream_id: string; tags: string[] }>(
        'server',
        `select t.tag, e.stream_id, e.tags from "${store.schema}".event_tags t
           join "${store.schema}".events e on e.position = t.position and e.type = t.type
           where e.stream_id = any($1) order by t.position, t.tag`,
        [streams],
      );
      expect(rows).toHaveLength(9);
      for (const row of rows) {
        expect(row.tags).toContain(row.tag);
        if (row.tag !== 'shared') expect(row.tag).toBe(`t:${streams.indexOf(row.stream_id)}`);
      }
    } finally {
      await store.close();
    }
  });

  it('a wrong expected revision inside a group fails only its caller', async () => {
    const { store } = await openCounting();
    try {
      await store.append('moved', [event(0), event(1)]);
      const outcomes = await Promise.allSettled([
        store.append('fresh-1', [event(1)], { expectedRevision: 'no_stream' }),
        store.append('moved', [event(2)], { expectedRevision: 0n }),
        store.append('fresh-2', [event(2)], { expectedRevision: 'no_stream' }),
        store.append('moved', [event(3)], { expectedRevision: 1n }),
      ]);
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
      const refused = (outcomes[1] as PromiseRejectedResult).reason;
      expect(refused).toBeInstanceOf(ConcurrencyConflict);
      expect(refused).toMatchObject({ streamId: 'moved', expected: 0n, actual: 2n });
      expect((await toArray(store.readStream('moved'))).map((e) => e.data)).toEqual([
        { n: 0 },
        { n: 1 },
        { n: 3 },
      ]);
      expect(await toArray(store.readStream('fresh-1'))).toHaveLength(1);
      expect(await toArray(store.readStream('fresh-2'))).toHaveLength(1);
    } finally {
      await store.close();
    }
  });

  it('re-appending stored event ids inside a group returns their first result', async () => {
    const { store } = await openCounting();
    try {
      const batch = [event(1), event(2)];
      const first = await store.append('retried', batch, { expectedRevision: 'no_stream' });
      const same = [event(7)];
      const [again, other, twiceA, twiceB] = await Promise.all([
        store.append('retried', batch, { expectedRevision: 'no_stream' }),
        store.append('other', [event(3)], { expectedRevision: 'no_stream' }),
        store.append('twice', same),
        store.append('twice', same),
      ]);
      expect(again).toEqual(first);
      expect(other.nextExpectedRevision).toBe(0n);
      expect(twiceA).toEqual(twiceB);
      expect(await toArray(store.readStream('retried'))).toHaveLength(2);
      expect(await toArray(store.readStream('twice'))).toHaveLength(1);
    } finally {
      await store.close();
    }
  });

  it('a failing append leaves the others of its group written and itself not half-written', async () => {
    const { store, counting } = await openCounting();
    try {
      const taken = uuidv7();
      await store.append('owner', [event(0, taken)]);
      const outcomes = await Promise.allSettled([
        store.append('good-1', [event(1)], { expectedRevision: 'no_stream' }),
        // Its second event reuses an id stored in another stream: the whole batch is refused.
        store.append('bad', [event(2), event(3, taken)], { expectedRevision: 'no_stream' }),
        store.append('good-2', [event(4), event(5)], { expectedRevision: 'no_stream' }),
      ]);
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect((outcomes[1] as PromiseRejectedResult).reason).toBeInstanceOf(IdempotencyConflict);
      expect(groupStatements(counting.queries)).toHaveLength(1);
      expect(await toArray(store.readStream('good-1'))).toHaveLength(1);
      expect(await toArray(store.readStream('good-2'))).toHaveLength(2);
      await expect(toArray(store.readStream('bad'))).rejects.toMatchObject({ code: 'STREAM_NOT_FOUND' });
      const streams = await db.raw(
        'server',
        `select 1 from "${store.schema}".streams where stream_id = 'bad'`,
      );
      expect(streams).toHaveLength(0);
    } finally {
      await store.close();
    }
  });

  it('leaves appends in a transaction and appends with a condition out of any group', async () => {
    const { store, counting } = await openCounting();
    try {
      await Promise.all([
        store.append('plain-0', [event(0)]), // alone: nothing on its way
        store.append('plain-1', [event(1)]),
        store.append('conditional', [{ ...event(2), tags: ['c:1'] }], {
          condition: { failIfEventsMatch: { items: [{ tags: ['c:1'] }] } },
        }),
        store.transaction((tx) => store.append('in-tx', [event(3)], { transaction: tx })),
        store.append('plain-2', [event(4)]),
      ]);
      const groups = groupStatements(counting.queries);
      expect(groups).toHaveLength(1);
      expect(await transactionsOf(store, ['plain-1', 'plain-2'])).toHaveLength(1);
      const [conditional] = await transactionsOf(store, ['conditional']);
      const [inTx] = await transactionsOf(store, ['in-tx']);
      expect(new Set([conditional, inTx, ...(await transactionsOf(store, ['plain-1']))]).size).toBe(3);
    } finally {
      await store.close();
    }
  });

  it('groups that share streams all commit, each stream in revision order in the global log', async () => {
    const { store } = await openCounting();
    try {
      const streams = ['shared-d', 'shared-a', 'shared-c', 'shared-b'];
      await Promise.all(
        Array.from({ length: 16 }, async (_, worker) => {
          for (let i = 0; i < 8; i++)
            await store.append(streams[(worker + i) % 4]!, [event(worker * 100 + i)]);
        }),
      );
      for (const streamId of streams) {
        const stored = await toArray(store.readStream(streamId));
        expect(stored).toHaveLength(32);
        const positions = stored.map((e) => e.position);
        expect(positions).toEqual([...positions].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
      }
    } finally {
      await store.close();
    }
  });

  it('groupCommit: false runs one statement and one transaction per append', async () => {
    const { store, counting } = await openCounting({ groupCommit: false });
    try {
      const streams = ['a-1', 'a-2', 'a-3', 'a-4'];
      await Promise.all(streams.map((s) => store.append(s, [event(0)], { expectedRevision: 'no_stream' })));
      expect(groupStatements(counting.queries)).toHaveLength(0);
      expect(counting.queries).toHaveLength(4);
      expect(await transactionsOf(store, streams)).toHaveLength(4);
    } finally {
      await store.close();
    }
  });
});
