import { PostgresEventStore } from '@annals/postgres';
import { toArray } from '@annals/testing';
import { describe, expect, it } from 'vitest';
import { targets, useTestDatabase } from './support/test-database.js';

const db = useTestDatabase('reads');

describe.each(targets)('reads page through the database (%s)', (target) => {
  it('readStream and readAll page by 3 rows: every direction, start and count reads the right events, one query per page', async () => {
    const counting = db.countingKysely(target);
    const store = await PostgresEventStore.create(
      { kysely: counting.kysely },
      { schema: db.schema(target), pageSize: 3 },
    );
    try {
      await store.migrate();
      await store.append(
        'a',
        Array.from({ length: 10 }, (_, n) => ({ type: n % 2 ? 'Odd' : 'Even', data: { n } })),
      );
      await store.append('b', [{ type: 'Even', data: { n: 100 } }]);
      const ns = (events: { data: unknown }[]) => events.map((e) => (e.data as { n: number }).n);

      counting.reset();
      expect(ns(await toArray(store.readStream('a')))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(counting.queries).toHaveLength(4); // 3 + 3 + 3 + 1
      expect(ns(await toArray(store.readStream('a', { direction: 'backwards' })))).toEqual([
        9, 8, 7, 6, 5, 4, 3, 2, 1, 0,
      ]);
      expect(ns(await toArray(store.readStream('a', { fromRevision: 4, maxCount: 5 })))).toEqual([
        4, 5, 6, 7, 8,
      ]);
      expect(
        ns(await toArray(store.readStream('a', { direction: 'backwards', fromRevision: 5n, maxCount: 4 }))),
      ).toEqual([5, 4, 3, 2]);
      expect(ns(await toArray(store.readStream('a', { fromRevision: 10 })))).toEqual([]);
      expect(ns(await toArray(store.readAll()))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 100]);
      expect(ns(await toArray(store.readAll({ filter: { types: ['Even'] }, maxCount: 4 })))).toEqual([
        0, 2, 4, 6,
      ]);
      expect(ns(await toArray(store.readAll({ filter: { types: ['Odd'], streamPrefix: 'a' } })))).toEqual([
        1, 3, 5, 7, 9,
      ]);

      // Leaving a loop early reads no further page.
      counting.reset();
      for await (const event of store.readAll()) if (event) break;
      expect(counting.queries).toHaveLength(1);
    } finally {
      await store.close();
    }
  });

  it('after a page of large events the next page asks for fewer rows (pageBytes)', async () => {
    const counting = db.countingKysely(target);
    const store = await PostgresEventStore.create(
      { kysely: counting.kysely },
      { schema: db.schema(target), pageSize: 10, pageBytes: 100_000 },
    );
    try {
      await store.migrate();
      // Random text hardly compresses: each event takes about 30 kB as stored.
      const blob = () =>
        Array.from({ length: 30_000 / 10 }, () => Math.random().toString(36).slice(2, 12)).join('');
      await store.append(
        'big',
        Array.from({ length: 20 }, () => ({ type: 'Blob', data: { blob: blob() } })),
      );
      counting.reset();
      const events = await toArray(store.readStream('big'));
      expect(events).toHaveLength(20);
      // 10 rows of ~30 kB fill ~300 kB: the following pages ask for 100 kB / 30 kB = 3 rows.
      expect(counting.parameters.map((p) => p.at(-1))).toEqual([10, 3, 3, 3, 3]);
    } finally {
      await store.close();
    }
  });
});

describe('diagnostics (PGlite)', () => {
  it('reports the horizon and the log positions, with no other transaction open', async () => {
    const store = await db.open('pglite');
    const empty = await store.diagnostics();
    expect(empty.lastCommittedPosition).toBeUndefined();
    expect(empty.eventsBehindHorizon).toBe(0);
    const written = await store.append('s', [
      { type: 'T', data: {} },
      { type: 'T', data: {} },
    ]);
    const diagnostics = await store.diagnostics();
    expect(diagnostics).toMatchObject({
      lastVisiblePosition: written.lastPosition,
      lastCommittedPosition: written.lastPosition,
      eventsBehindHorizon: 0,
      openTransactions: [],
      oldestTransaction: undefined,
      preparedTransactions: [],
    });
    expect(diagnostics.horizon).toBeGreaterThan(written.lastPosition);
    expect(diagnostics.horizon).toBe(diagnostics.oldestRunningTransactionId << 20n);
  });
});
