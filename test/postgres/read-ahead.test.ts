import { PostgresEventStore, StoreUnavailable } from '@annals/postgres';
import { toArray } from '@annals/testing';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { FlakyDialect } from './support/flaky-dialect.js';
import { databaseUrl, eventually, targets, useTestDatabase } from './support/test-database.js';

const db = useTestDatabase('read_ahead');

describe.each(targets)('reads: what a page costs (%s)', (target) => {
  it('a reader that stops after one event of a full page reads no further page; one that stops later, at most one (read ahead)', async () => {
    const counting = db.countingKysely(target);
    const store = await PostgresEventStore.create(
      { kysely: counting.kysely },
      // No read-your-writes wait: a read that finds its end reads no more than its pages.
      { schema: db.schema(target), pageSize: 3, horizonWaitMs: 0 },
    );
    try {
      await store.migrate();
      await store.append(
        'a',
        Array.from({ length: 10 }, (_, n) => ({ type: 'T', data: { n } })),
      );
      // readAll stops below the oldest running transaction of the cluster: wait until that is past ours.
      await eventually(async () => (await toArray(store.readAll())).length === 10, 30_000);
      for (const read of [() => store.readStream('a'), () => store.readAll()]) {
        counting.reset();
        for await (const event of read()) if (event) break;
        expect(counting.queries).toHaveLength(1);

        counting.reset();
        let seen = 0;
        for await (const event of read()) if (event && ++seen === 2) break;
        // On the server the next page was read ahead (PGlite, one connection in this thread, reads none):
        // wait for it, so that it is not counted in the next read.
        const expected = target === 'server' ? 2 : 1;
        await eventually(async () => counting.queries.length >= expected);
        await new Promise((resolve) => setTimeout(resolve, 20));
        expect(counting.queries).toHaveLength(expected);
      }
    } finally {
      await store.close();
    }
  });

  it('reads recordedAt to the millisecond, truncated as a Date keeps it, before and after 1970', async () => {
    const store = await db.open(target);
    await store.append('t', [
      { type: 'T', data: { n: 0 } },
      { type: 'T', data: { n: 1 } },
    ]);
    // The log refuses updates (a trigger); this test sets times no append can produce.
    await db.raw(target, `alter table ${store.schema}.events disable trigger user`);
    await db.raw(
      target,
      `update ${store.schema}.events set recorded_at = case revision
         when 0 then '2026-01-02 03:04:05.678901+00'::timestamptz
         else '1969-12-31 23:59:59.9995+00'::timestamptz end`,
    );
    await db.raw(target, `alter table ${store.schema}.events enable trigger user`);
    const times = (await toArray(store.readStream('t'))).map((e) => e.recordedAt.toISOString());
    expect(times).toEqual(['2026-01-02T03:04:05.678Z', '1969-12-31T23:59:59.999Z']);
    expect((await toArray(store.readAll())).map((e) => e.recordedAt.toISOString())).toEqual(times);
  });
});

describe.skipIf(!databaseUrl)('a page read ahead that fails (server)', () => {
  async function flakyStore() {
    // Only the pages after the first carry a revision bound: the first one stays healthy.
    const dialect = new FlakyDialect(
      new PostgresDialect({ pool: new pg.Pool({ connectionString: databaseUrl, max: 4 }) }),
      /"revision" >= /,
    );
    const kysely = new Kysely<any>({ dialect });
    const store = await PostgresEventStore.create({ kysely }, { schema: db.schema('server'), pageSize: 3 });
    await store.migrate();
    await store.append(
      'a',
      Array.from({ length: 10 }, (_, n) => ({ type: 'T', data: { n } })),
    );
    return {
      dialect,
      store,
      close: async () => {
        await store.close();
        await kysely.destroy();
      },
    };
  }

  it('ends the read with StoreUnavailable when the reader gets to it', async () => {
    const { dialect, store, close } = await flakyStore();
    try {
      dialect.failNext(1, { afterRunning: false });
      const seen: number[] = [];
      const error = await (async () => {
        for await (const event of store.readStream('a')) seen.push((event.data as { n: number }).n);
      })().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreUnavailable);
      expect((error as Error).message).toContain('a read of stream a');
      expect(seen).toEqual([0, 1, 2]);
    } finally {
      await close();
    }
  });

  it('is dropped without an unhandled rejection when the reader left before it', async () => {
    const { dialect, store, close } = await flakyStore();
    try {
      dialect.failNext(1, { afterRunning: false });
      let seen = 0;
      for await (const event of store.readStream('a')) if (event && ++seen === 2) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
      // The failure was spent on the page read ahead: the next read is whole.
      expect(await toArray(store.readStream('a'))).toHaveLength(10);
    } finally {
      await close();
    }
  });
});
