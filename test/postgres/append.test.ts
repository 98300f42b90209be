import { ConcurrencyConflict, hasErrorCode, IdempotencyConflict, uuidv7 } from '@annals/core';
import { EVENTS_PER_TRANSACTION, PostgresEventStore, StoreUnavailable } from '@annals/postgres';
import { toArray } from '@annals/testing';
import { Kysely, PGliteDialect, sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { FlakyDialect } from './support/flaky-dialect.js';
import { databaseUrl, targets, useTestDatabase } from './support/test-database.js';

const db = useTestDatabase('append');

describe.each(targets)('append (%s)', (target) => {
  it('costs one statement per batch, of 1 or of 100 events, whatever the expected revision', async () => {
    const counting = db.countingKysely(target);
    const store = await PostgresEventStore.create({ kysely: counting.kysely }, { schema: db.schema(target) });
    try {
      await store.migrate();
      await store.append('warm-up', [{ type: 'T', data: {} }]); // the one-time start-up check
      const batch = Array.from({ length: 100 }, (_, i) => ({ type: 'T', data: { i } }));
      const cases = [
        () => store.append('one', [{ type: 'T', data: {} }], { expectedRevision: 'no_stream' }),
        () => store.append('one', [{ type: 'T', data: {} }], { expectedRevision: 0n }),
        () => store.append('one', batch, { expectedRevision: 'stream_exists' }),
        () => store.append('one', batch, { expectedRevision: 'any' }),
        () => store.append('other', batch),
      ];
      for (const append of cases) {
        counting.reset();
        await append();
        expect(counting.queries).toHaveLength(1);
        expect(counting.queries[0]).toMatch(/annals_append_tagged"\(/);
      }
      // A refused append: the append, then one statement that checks for a stored batch and reads
      // the stream's revision for the ConcurrencyConflict.
      counting.reset();
      const refused = await store
        .append('one', [{ type: 'T', data: {} }], { expectedRevision: 0n })
        .catch((e: unknown) => e);
      expect(refused).toMatchObject({ code: 'CONCURRENCY_CONFLICT', actual: 201n });
      expect(counting.queries, counting.queries.join('\n')).toHaveLength(2);
    } finally {
      await store.close();
    }
  });

  it('a wrong expected revision raises ConcurrencyConflict naming the stream, expected and actual, and writes nothing', async () => {
    const store = await db.open(target);
    await store.append(
      'account-7',
      [0, 1, 2, 3, 4, 5].map((n) => ({ type: 'T', data: { n } })),
    );
    const attempts = [
      [3n, 'Expected revision 3 of stream account-7, found revision 5.'],
      ['no_stream', 'Expected no stream of stream account-7, found revision 5.'],
    ] as const;
    for (const [expectedRevision, message] of attempts) {
      const error = await store
        .append('account-7', [{ type: 'T', data: {} }], { expectedRevision })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConcurrencyConflict);
      expect(error).toMatchObject({ streamId: 'account-7', expected: expectedRevision, actual: 5n, message });
    }
    const missing = await store
      .append('account-8', [{ type: 'T', data: {} }], { expectedRevision: 'stream_exists' })
      .catch((e: unknown) => e);
    expect(missing).toMatchObject({
      code: 'CONCURRENCY_CONFLICT',
      message: 'Expected an existing stream of stream account-8, found no stream.',
    });
    expect(await toArray(store.readAll())).toHaveLength(6);
    await expect(toArray(store.readStream('account-8'))).rejects.toMatchObject({ code: 'STREAM_NOT_FOUND' });
  });

  it('re-appending a stored batch returns the original result; the same id with other content is IdempotencyConflict', async () => {
    const store = await db.open(target);
    const batch = [
      { id: uuidv7(), type: 'A', data: { n: 1 }, metadata: { correlationId: 'c-1' } },
      { id: uuidv7(), type: 'B', data: { nested: { list: [1, 'two', null] } } },
    ];
    const original = await store.append('s', batch, { expectedRevision: 'no_stream' });
    await store.append('s', [{ type: 'C', data: {} }]);
    for (const expectedRevision of ['no_stream', 'any', 0n, 'stream_exists'] as const) {
      expect(await store.append('s', batch, { expectedRevision })).toEqual(original);
    }
    expect(await toArray(store.readAll())).toHaveLength(3);

    // Same content in another key order is the same content (jsonb equality).
    const reordered = [batch[0]!, { ...batch[1]!, data: { nested: { list: [1, 'two', null] } } }];
    expect(await store.append('s', reordered)).toEqual(original);

    const changed = [batch[0]!, { ...batch[1]!, data: { nested: { list: [1, 'two'] } } }];
    const conflict = await store.append('s', changed).catch((e: unknown) => e);
    expect(conflict).toBeInstanceOf(IdempotencyConflict);
    expect(conflict).toMatchObject({ eventId: batch[1]!.id });
    const elsewhere = await store.append('other', batch).catch((e: unknown) => e);
    expect(elsewhere).toMatchObject({ code: 'IDEMPOTENCY_CONFLICT', eventId: batch[0]!.id });
    const partly = await store.append('s', [batch[0]!, { type: 'D', data: {} }]).catch((e: unknown) => e);
    expect(partly).toMatchObject({ code: 'IDEMPOTENCY_CONFLICT' });
    expect(await toArray(store.readAll())).toHaveLength(3);
  });

  it('stream ids, types and data that look like SQL are stored verbatim', async () => {
    const store = await db.open(target);
    const streamId = `x'); drop table events; --`;
    const type = `"; delete from streams where ''='`;
    const data = { sql: "' or 1=1 --", dollar: '$$ $1 $tag$', backslash: 'a\\b\\\\c', quote: '"' };
    const metadata = { note: "'; truncate events; --" };
    await store.append(streamId, [{ type, data, metadata }]);
    await store.append('percent%_prefix', [{ type: 'T', data: {} }]);
    const [event] = await toArray(store.readStream(streamId));
    expect(event).toMatchObject({ streamId, type, data, metadata });
    const stored = await db.raw<{ stream_id: string; type: string }>(
      target,
      `select stream_id, type from "${store.schema}".events where stream_id = $1`,
      [streamId],
    );
    expect(stored).toEqual([{ stream_id: streamId, type }]);
    // A prefix filter treats % and _ literally.
    const prefixed = await toArray(store.readAll({ filter: { streamPrefix: 'percent%_' } }));
    expect(prefixed.map((e) => e.streamId)).toEqual(['percent%_prefix']);
    expect(await toArray(store.readAll({ filter: { streamPrefix: 'percent__' } }))).toEqual([]);
  });

  it('an event over maxEventBytes raises EventTooLarge before anything is sent; one at the limit is stored', async () => {
    const counting = db.countingKysely(target);
    const limit = 1000;
    const store = await PostgresEventStore.create(
      { kysely: counting.kysely },
      { schema: db.schema(target), maxEventBytes: limit },
    );
    try {
      await store.migrate();
      expect(store.capabilities.maxEventBytes).toBe(limit);
      await store.append('warm-up', [{ type: 'T', data: {} }]);
      // {"s":"..."} is 8 bytes plus the string; metadata {} is 2 bytes; 'é' is 2 bytes in UTF-8.
      const atLimit = { type: 'T', data: { s: 'é'.repeat((limit - 10) / 2) } };
      const over = { type: 'T', data: { s: `${'é'.repeat((limit - 10) / 2)}x` } };
      counting.reset();
      const error = await store.append('big', [atLimit, over]).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'EVENT_TOO_LARGE', size: limit + 1, limit, eventType: 'T' });
      expect(counting.queries).toEqual([]);
      await store.append('big', [atLimit]);
      expect(await toArray(store.readStream('big'))).toHaveLength(1);
    } finally {
      await store.close();
    }
  });

  it('refuses the NUL character (which PostgreSQL text cannot store) in data, type or stream id, and keeps an escaped backslash-u', async () => {
    const store = await db.open(target);
    const error = await store
      .append('s', [{ type: 'T', data: { text: 'a\u0000b' } }])
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'EVENT_VALIDATION_FAILED' });
    expect((error as Error).message).toContain('NUL');
    const inType = await store.append('s', [{ type: 'A\u0000B', data: {} }]).catch((e: unknown) => e);
    expect(inType).toMatchObject({ code: 'EVENT_VALIDATION_FAILED' });
    const inStreamId = await store.append('s\u0000t', [{ type: 'T', data: {} }]).catch((e: unknown) => e);
    expect(inStreamId).toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(toArray(store.readStream('s\u0000t'))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await toArray(store.readAll())).toEqual([]);
    const literal = { text: '\\u0000 is how JSON writes NUL' };
    await store.append('s', [{ type: 'T', data: literal }]);
    const [event] = await toArray(store.readStream('s'));
    expect(event?.data).toEqual(literal);
  });

  it('stores a 1 MB event and a 10,000-event batch in one append each', async () => {
    const store = await db.open(target);
    const payload = 'x'.repeat(1_000_000);
    const big = await store.append('big', [{ type: 'Blob', data: { payload } }]);
    const batch = Array.from({ length: 10_000 }, (_, i) => ({ type: 'Item', data: { i } }));
    const many = await store.append('many', batch, { expectedRevision: 'no_stream' });
    expect(many.nextExpectedRevision).toBe(9_999n);
    expect(many.lastPosition - many.firstPosition).toBe(9_999n);
    const [blob] = await toArray(store.readStream('big'));
    expect((blob!.data as { payload: string }).payload).toBe(payload);
    expect(blob?.position).toBe(big.firstPosition);
    let expected = 0;
    for await (const event of store.readStream('many')) {
      expect(event.revision).toBe(BigInt(expected));
      expect((event.data as { i: number }).i).toBe(expected);
      expected++;
    }
    expect(expected).toBe(10_000);
  });

  it('refuses a batch above 2^20 events with InvalidArgument before validating it', async () => {
    const store = await db.open(target);
    const events = new Array(EVENTS_PER_TRANSACTION + 1).fill({ type: 'T', data: {} });
    const error = await store.append('s', events).catch((e: unknown) => e);
    expect(hasErrorCode(error, 'INVALID_ARGUMENT')).toBe(true);
    expect((error as Error).message).toContain(`at most ${EVENTS_PER_TRANSACTION}`);
  });

  it('declares its capabilities: several processes and out-of-order commits on a server, neither on PGlite; append conditions on both', async () => {
    const store = await db.open(target);
    expect(store.capabilities).toEqual({
      multiProcess: target === 'server',
      concurrentCommits: target === 'server',
      maxEventBytes: 2 * 1024 * 1024,
      appendConditions: true,
    });
  });
});

describe('a connection lost during an append (simulated on PGlite)', () => {
  async function flakyStore() {
    const dialect = new FlakyDialect(new PGliteDialect({ pglite: db.pglite }), /annals_append_tagged"\(/);
    const kysely = new Kysely<any>({ dialect });
    const store = await PostgresEventStore.create({ kysely }, { schema: db.schema('pglite') });
    await store.migrate();
    return { store, dialect };
  }

  it('fails with StoreUnavailable; a retry with the same ids writes the batch once, whether it had committed or not', async () => {
    const { store, dialect } = await flakyStore();
    try {
      const cases = [
        { afterRunning: false, expectedRevision: 'no_stream' as const },
        { afterRunning: true, expectedRevision: 0n }, // the retry fails its check: found by its ids
        { afterRunning: true, expectedRevision: 'any' as const }, // the retry collides with its stored ids
      ];
      const results = [];
      for (const [i, { afterRunning, expectedRevision }] of cases.entries()) {
        const events = [{ id: uuidv7(), type: `E${i}`, data: {} }];
        dialect.failNext(1, { afterRunning });
        const error = await store.append('s', events, { expectedRevision }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(StoreUnavailable);
        results.push(await store.append('s', events, { expectedRevision }));
      }
      expect(results.map((r) => r.nextExpectedRevision)).toEqual([0n, 1n, 2n]);
      const log = await toArray(store.readAll());
      expect(log.map((e) => e.type)).toEqual(['E0', 'E1', 'E2']);
      expect(log.map((e) => e.position)).toEqual(results.map((r) => r.firstPosition));
    } finally {
      await store.close();
    }
  });

  it('names the append in StoreUnavailable, and a batch that never ran leaves nothing', async () => {
    const { store, dialect } = await flakyStore();
    try {
      dialect.failNext(1, { afterRunning: false });
      const error = await store.append('s', [{ type: 'A', data: {} }]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreUnavailable);
      expect(error).toMatchObject({ code: 'STORE_UNAVAILABLE' });
      expect((error as Error).message).toContain('an append to stream s');
      expect(await toArray(store.readAll())).toEqual([]);
    } finally {
      await store.close();
    }
  });
});

describe.skipIf(!databaseUrl)('the append on a pool the store owns (server)', () => {
  it('is a named prepared statement of each connection, and behaves as the unnamed one', async () => {
    const schema = db.schema('server');
    const store = await PostgresEventStore.create(
      { connectionString: databaseUrl!, pool: { max: 1 } },
      { schema },
    );
    try {
      await store.migrate();
      await store.append('prepared-1', [{ type: 'T', data: { n: 1 } }], { expectedRevision: 'no_stream' });
      await store.append('prepared-1', [{ type: 'T', data: { n: 2 } }], { expectedRevision: 0n });
      const conflict = await store
        .append('prepared-1', [{ type: 'T', data: { n: 3 } }], { expectedRevision: 0n })
        .catch((e: unknown) => e);
      expect(conflict).toBeInstanceOf(ConcurrencyConflict);
      // One connection in the pool: the session that ran the appends answers.
      const prepared = await sql<{ name: string; statement: string }>`select name, statement
        from pg_prepared_statements where statement like '%annals_append%'`.execute(store.kysely);
      expect(prepared.rows).toHaveLength(1);
      expect(prepared.rows[0]!.name).toMatch(/^annals_\d+$/);
      expect((await toArray(store.readStream('prepared-1'))).map((e) => e.data)).toEqual([
        { n: 1 },
        { n: 2 },
      ]);
    } finally {
      await store.close();
    }
  });

  it('with preparedStatements: false, is sent unnamed', async () => {
    const schema = db.schema('server');
    const store = await PostgresEventStore.create(
      { connectionString: databaseUrl!, pool: { max: 1 }, preparedStatements: false },
      { schema },
    );
    try {
      await store.migrate();
      await store.append('unnamed-1', [{ type: 'T', data: {} }]);
      await store.append('unnamed-1', [{ type: 'T', data: {} }]);
      const prepared = await sql<{ name: string }>`select name from pg_prepared_statements`.execute(
        store.kysely,
      );
      expect(prepared.rows).toEqual([]);
      expect(await toArray(store.readStream('unnamed-1'))).toHaveLength(2);
    } finally {
      await store.close();
    }
  });

  it('is prepared again, and the append goes through, when the session lost its prepared statements', async () => {
    const schema = db.schema('server');
    const store = await PostgresEventStore.create(
      { connectionString: databaseUrl!, pool: { max: 1 } },
      { schema },
    );
    try {
      await store.migrate();
      await store.append('lost-1', [{ type: 'T', data: {} }]);
      // As a pooler or DISCARD ALL would: the one connection forgets what it prepared.
      await sql`deallocate all`.execute(store.kysely);
      const again = await store.append('lost-1', [{ type: 'T', data: {} }], { expectedRevision: 0n });
      expect(again.nextExpectedRevision).toBe(1n);
      const prepared = await sql<{ name: string }>`select name from pg_prepared_statements`.execute(
        store.kysely,
      );
      expect(prepared.rows.map((r) => r.name)).toEqual(['annals_2']);
    } finally {
      await store.close();
    }
  });
});
