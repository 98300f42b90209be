import {
  annalsMigrations,
  archiveBefore,
  archiveStream,
  PostgresEventStore,
  readArchive,
} from '@annals/postgres';
import { expectAnnalsError, toArray } from '@annals/testing';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { migrateStoreTo } from '../postgres/support/migrate-to.js';
import { waitFor } from '../support/wait-for.js';

const databaseUrl = process.env.DATABASE_URL;
const prefix = `arch_${process.pid}`;
const stores: PostgresEventStore[] = [];
let count = 0;

async function open(options: { pageSize?: number } = {}): Promise<PostgresEventStore> {
  const store = await PostgresEventStore.create(
    { connectionString: databaseUrl!, pool: { max: 3 } },
    // Patient: another test file's open transaction on the server holds the horizon back meanwhile.
    { schema: `${prefix}_${++count}`, horizonWaitMs: 60_000, ...options },
  );
  stores.push(store);
  return store;
}

afterAll(async () => {
  for (const store of stores) await store.close();
  if (databaseUrl === undefined) return;
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    for (let i = 1; i <= count; i++) await client.query(`drop schema if exists "${prefix}_${i}" cascade`);
  } finally {
    await client.end();
  }
});

describe.skipIf(!databaseUrl)('hot and cold: events_archive', () => {
  it('a schema of today (up to 0007) holding events upgrades; archiving a stream moves it to the cold part, explicit reads reach it, appends go on after it', async () => {
    const store = await open();
    expect((await migrateStoreTo(store, '0007_process_timers')).error).toBeUndefined();
    // Rows as the 0007 schema holds them: stream old-1 (two events) and old-2 (one), one transaction each.
    for (const [stream, revisions] of [
      ['old-1', 2],
      ['old-2', 1],
    ] as const) {
      await sql
        .raw(
          `with tx as (select pg_current_xact_id() as xid),
             s as (insert into "${store.schema}".streams (stream_id, category, revision, last_position)
                   select '${stream}', 'old', ${revisions - 1}, ((xid::text::bigint) << 20) + ${revisions - 1} from tx)
           insert into "${store.schema}".events (position, transaction_id, stream_id, revision, id, type, schema_version, data, metadata)
           select ((xid::text::bigint) << 20) + r, xid, '${stream}', r, gen_random_uuid(), 'Old', 1, jsonb_build_object('r', r), '{}'
           from tx, generate_series(0, ${revisions - 1}) r`,
        )
        .execute(store.kysely);
    }
    // Every migration after 0007 runs, in order.
    expect((await store.migrate()).applied).toEqual(
      Object.keys(annalsMigrations(store.schema))
        .sort()
        .filter((name) => name > '0007_process_timers'),
    );
    // Written outside the store: readable once no other session's open transaction holds the horizon.
    await waitFor(async () => (await toArray(store.readAll())).length >= 3, 'the three old events readable');
    const before = await toArray(store.readAll());
    expect(before.map((e) => e.streamId)).toEqual(['old-1', 'old-1', 'old-2']);

    expect(await archiveStream(store, 'old-1')).toEqual({ events: 2 });
    expect(
      (await toArray(store.readAll())).map((e) => e.streamId),
      'normal reads skip the cold part',
    ).toEqual(['old-2']);
    const cold = await toArray(readArchive(store, { streamId: 'old-1' }));
    expect(cold.map((e) => [e.id, e.position, e.revision, e.data])).toEqual(
      before.slice(0, 2).map((e) => [e.id, e.position, e.revision, e.data]),
    );
    // The stream keeps its revision; the global order goes on above every archived position.
    const next = await store.append('old-1', [{ type: 'New', data: {} }], { expectedRevision: 1n });
    expect(next.nextExpectedRevision).toBe(2n);
    expect(next.firstPosition).toBeGreaterThan(before.at(-1)!.position);
    expect(await archiveStream(store, 'old-1')).toEqual({ events: 1 });
    expect((await toArray(readArchive(store))).map((e) => e.revision)).toEqual([0n, 1n, 2n]);
  });

  it('archiveBefore moves everything below a position; hot and cold together are the whole log in order', async () => {
    const store = await open();
    await store.migrate();
    for (let i = 0; i < 6; i++) await store.append(`s-${i % 2}`, [{ type: 'N', data: { i } }]);
    const all = await toArray(store.readAll());
    const cut = all[4]!.position;
    expect(await archiveBefore(store, cut)).toEqual({ events: 4 });
    const hot = await toArray(store.readAll());
    const cold = await toArray(readArchive(store));
    expect([...cold, ...hot].map((e) => [e.id, e.position])).toEqual(all.map((e) => [e.id, e.position]));
    expect(hot.every((e) => e.position >= cut)).toBe(true);
    await expectAnnalsError(() => archiveBefore(store, -1n), 'INVALID_ARGUMENT');
  });

  it('a stream whose oldest events were archived reads its hot rest page by page, in both directions and from a revision', async () => {
    const store = await open({ pageSize: 2 });
    await store.migrate();
    await store.append(
      's-1',
      [0, 1, 2, 3].map((i) => ({ type: 'N', data: { i } })),
    );
    const cut = (await toArray(store.readStream('s-1')))[3]!.position + 1n;
    await store.append(
      's-1',
      [4, 5, 6, 7, 8].map((i) => ({ type: 'N', data: { i } })),
    );
    expect(await archiveBefore(store, cut)).toEqual({ events: 4 });
    const revisions = async (events: AsyncIterable<{ revision: bigint }>) =>
      (await toArray(events)).map((e) => Number(e.revision));
    expect(await revisions(store.readStream('s-1'))).toEqual([4, 5, 6, 7, 8]);
    expect(await revisions(store.readStream('s-1', { fromRevision: 1n }))).toEqual([4, 5, 6, 7, 8]);
    expect(await revisions(store.readStream('s-1', { fromRevision: 5n, maxCount: 3 }))).toEqual([5, 6, 7]);
    expect(await revisions(store.readStream('s-1', { direction: 'backwards' }))).toEqual([8, 7, 6, 5, 4]);
    expect(await revisions(store.readStream('s-1', { direction: 'backwards', fromRevision: 6n }))).toEqual([
      6, 5, 4,
    ]);
    expect(await revisions(store.readStream('s-1', { fromRevision: 9n }))).toEqual([]);
    const subscription = store.subscribeToStream('s-1');
    const seen: number[] = [];
    for await (const event of subscription) if (seen.push(Number(event.revision)) === 5) break;
    expect(seen).toEqual([4, 5, 6, 7, 8]);
  });

  it('the log stays append-only: no delete outside an archive move, no update or delete of archived events', async () => {
    const store = await open();
    await store.migrate();
    await store.append('s-1', [{ type: 'N', data: {} }]);
    const events = sql.id(store.schema, 'events');
    const archive = sql.id(store.schema, 'events_archive');
    const refused = (statement: ReturnType<typeof sql>) =>
      expect(store.transaction((tx) => statement.execute(tx))).rejects.toMatchObject({ code: '23001' });
    await refused(sql`delete from ${events}`);
    await refused(sql`update ${events} set type = 'X'`);
    // Inside an archiving transaction too: a row leaves only when its copy is in the archive.
    await expect(
      store.transaction(async (tx) => {
        await sql`select set_config('annals.archiving', 'on', true)`.execute(tx);
        await sql`delete from ${events}`.execute(tx);
      }),
    ).rejects.toMatchObject({ code: '23001' });
    await archiveStream(store, 's-1');
    await refused(sql`delete from ${archive}`);
    await refused(sql`update ${archive} set type = 'X'`);
    expect(await toArray(readArchive(store))).toHaveLength(1);
  });
});
