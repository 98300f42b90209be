import { hasErrorCode } from '@annals/core';
import {
  annalsMigrations,
  LATEST_MIGRATION,
  PostgresEventStore,
  SchemaNotMigrated,
  TransactionIdsRewound,
} from '@annals/postgres';
import { toArray } from '@annals/testing';
import { describe, expect, it } from 'vitest';
import { migrateStoreTo } from './support/migrate-to.js';
import { targets, useTestDatabase } from './support/test-database.js';

const db = useTestDatabase('schema');

describe.each(targets)('migrations (%s)', (target) => {
  it('migrate() creates the tables in the configured schema, and a second run applies nothing', async () => {
    const schema = db.schema(target);
    const store = await PostgresEventStore.create(db.connection(target), { schema });
    try {
      const first = await store.migrate();
      expect(first.applied).toEqual(Object.keys(annalsMigrations(schema)).sort());
      expect(first.applied.slice(0, 2)).toEqual(['0001_event_log', '0002_checkpoints_and_snapshots']);
      expect(first.applied.at(-1)).toBe(LATEST_MIGRATION);
      expect(await store.migrate()).toEqual({ applied: [] });

      const tables = await db.raw<{ table_name: string }>(
        target,
        `select table_name from information_schema.tables where table_schema = $1 order by table_name`,
        [schema],
      );
      expect(tables.map((t) => t.table_name)).toEqual(
        expect.arrayContaining([
          'annals_migration',
          'annals_migration_lock',
          'checkpoints',
          'events',
          'snapshots',
          'streams',
        ]),
      );
      // The store works after the second migrate.
      await store.append('s-1', [{ type: 'T', data: {} }]);
      expect(await toArray(store.readStream('s-1'))).toHaveLength(1);
    } finally {
      await store.close();
    }
  });

  it('a schema migrated by an earlier release (up to 0003) with events in it upgrades: each stream learns its last position and appends go on in order', async () => {
    const schema = db.schema(target);
    const store = await PostgresEventStore.create(db.connection(target), { schema });
    try {
      const old = await migrateStoreTo(store, '0003_projection_leases_and_dead_letters');
      expect(old.error).toBeUndefined();
      // Rows as the 0003 schema held them: one stream of two events written by one transaction.
      await db.raw(
        target,
        `with tx as (select pg_current_xact_id() as xid),
           s as (insert into "${schema}".streams (stream_id, category, revision) values ('old-1', 'old', 1))
         insert into "${schema}".events (position, transaction_id, stream_id, revision, id, type, schema_version, data, metadata)
         select ((xid::text::bigint) << 20) + r, xid, 'old-1', r, gen_random_uuid(), 'Old', 1, '{}', '{}'
         from tx, generate_series(0, 1) r`,
      );
      expect((await store.migrate()).applied).toEqual(
        Object.keys(annalsMigrations(schema))
          .sort()
          .filter((name) => name > '0003_projection_leases_and_dead_letters'),
      );
      const [row] = await db.raw<{ last_position: string; max: string }>(
        target,
        `select s.last_position::text, (select max(position) from "${schema}".events)::text as max
         from "${schema}".streams s where stream_id = 'old-1'`,
      );
      expect(row!.last_position).toBe(row!.max);
      const next = await store.append('old-1', [{ type: 'New', data: {} }], { expectedRevision: 1n });
      expect(next.nextExpectedRevision).toBe(2n);
      const stream = await toArray(store.readStream('old-1'));
      expect(stream.map((e) => [e.type, e.revision])).toEqual([
        ['Old', 0n],
        ['Old', 1n],
        ['New', 2n],
      ]);
      expect(stream[2]!.position).toBeGreaterThan(stream[1]!.position);
    } finally {
      await store.close();
    }
  });

  it('a second store on another schema of the same database is independent', async () => {
    const a = await db.open(target);
    const b = await db.open(target);
    await a.append('shared-id', [{ type: 'OnlyInA', data: { n: 1 } }]);
    expect(await toArray(a.readAll())).toHaveLength(1);
    expect(await toArray(b.readAll())).toEqual([]);
    await expect(toArray(b.readStream('shared-id'))).rejects.toMatchObject({ code: 'STREAM_NOT_FOUND' });
  });

  it('before migrate(), reads and appends fail with SchemaNotMigrated naming the schema, and nothing is created', async () => {
    const schema = db.schema(target);
    const store = await PostgresEventStore.create(db.connection(target), { schema });
    try {
      const error = await store.append('s-1', [{ type: 'T', data: {} }]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SchemaNotMigrated);
      expect(hasErrorCode(error, 'SCHEMA_NOT_MIGRATED')).toBe(true);
      expect((error as Error).message).toContain(`"${schema}"`);
      expect((error as Error).message).toContain('migrate()');
      await expect(toArray(store.readAll())).rejects.toBeInstanceOf(SchemaNotMigrated);
      const found = await db.raw(target, `select 1 from pg_namespace where nspname = $1`, [schema]);
      expect(found).toEqual([]);
    } finally {
      await store.close();
    }
  });
});

describe('schema option', () => {
  it("defaults to 'annals'", async () => {
    const store = await PostgresEventStore.create({ pglite: db.pglite });
    try {
      expect(store.schema).toBe('annals');
      await store.migrate();
      const tables = await db.raw(
        'pglite',
        `select 1 from information_schema.tables where table_schema = 'annals' and table_name = 'events'`,
      );
      expect(tables).toHaveLength(1);
    } finally {
      await store.close();
    }
  });

  it.each(['Annals', 'annals; drop table x', '1annals', '', 'a'.repeat(51)])(
    'refuses the schema name %j with InvalidArgument before connecting',
    async (schema) => {
      const error = await PostgresEventStore.create({ pglite: db.pglite }, { schema }).catch(
        (e: unknown) => e,
      );
      expect(hasErrorCode(error, 'INVALID_ARGUMENT')).toBe(true);
      expect((error as Error).message).toContain(JSON.stringify(schema));
    },
  );
});

describe.each(targets)('the events table is append-only (%s)', (target) => {
  it('UPDATE, DELETE and TRUNCATE are rejected by the database, and the events stay as they were', async () => {
    const store = await db.open(target);
    await store.append('s-1', [
      { type: 'T', data: { n: 1 } },
      { type: 'T', data: { n: 2 } },
    ]);
    const before = await toArray(store.readAll());
    const events = `"${store.schema}".events`;
    for (const statement of [
      `update ${events} set data = '{"n": 99}'`,
      `update ${events} set type = 'X' where false`,
      `delete from ${events}`,
      `delete from ${events} where stream_id = 'nothing'`,
      `truncate ${events}`,
    ]) {
      const error = await db.raw(target, statement).catch((e: unknown) => e);
      expect(error, statement).toBeInstanceOf(Error);
      expect((error as Error).message).toMatch(/append-only: (UPDATE|DELETE|TRUNCATE) is not allowed/);
      expect((error as { code?: string }).code).toBe('23001');
    }
    expect(await toArray(store.readAll())).toEqual(before);
  });
});

/**
 * A dump restored into another cluster carries transaction ids from the old cluster, usually far
 * above the new cluster's counter. We simulate it by inserting, with plain SQL (inserts are allowed;
 * only UPDATE, DELETE and TRUNCATE are refused), an event whose transaction id is a billion above
 * the current one: exactly what such a restore leaves behind.
 */
async function plantFutureEvent(target: 'pglite' | 'server', schema: string): Promise<bigint> {
  const [row] = await db.raw<{ xid: string }>(
    target,
    `select (pg_snapshot_xmax(pg_current_snapshot())::text::bigint + 1000000000)::text as xid`,
  );
  const xid = BigInt(row!.xid);
  await db.raw(
    target,
    `insert into "${schema}".events (position, transaction_id, stream_id, revision, id, type, schema_version, data, metadata)
     values ($1::bigint, $2::text::xid8, 'restored-1', 0, gen_random_uuid(), 'Restored', 1, '{}', '{}')`,
    [(xid << 20n).toString(), xid.toString()],
  );
  await db.raw(
    target,
    `insert into "${schema}".streams (stream_id, category, revision) values ('restored-1', 'restored', 0)`,
  );
  return xid;
}

describe.each(targets)('dump/restore detection (%s)', (target) => {
  it('a store refuses to start when stored transaction ids are ahead of the cluster, with TransactionIdsRewound', async () => {
    const store = await db.open(target);
    await store.append('before', [{ type: 'T', data: {} }]);
    await store.close();
    const xid = await plantFutureEvent(target, store.schema);

    const error = await PostgresEventStore.create(db.connection(target), { schema: store.schema }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TransactionIdsRewound);
    expect(hasErrorCode(error, 'TRANSACTION_IDS_REWOUND')).toBe(true);
    expect(error).toMatchObject({ schema: store.schema, storedTransactionId: xid });
    expect((error as TransactionIdsRewound).nextTransactionId).toBeLessThan(xid);
    expect((error as Error).message).toContain('restored from a dump');
  });

  it('the check runs again on migrate(), and the xid it reads consumes no transaction id', async () => {
    const store = await db.open(target);
    const [before] = await db.raw<{ next: string }>(
      target,
      `select pg_snapshot_xmax(pg_current_snapshot())::text as next`,
    );
    await store.migrate(); // runs the check: reads only
    const [after] = await db.raw<{ next: string }>(
      target,
      `select pg_snapshot_xmax(pg_current_snapshot())::text as next`,
    );
    if (target === 'pglite') expect(after!.next).toBe(before!.next); // a server's other sessions may take xids
    await plantFutureEvent(target, store.schema);
    await expect(store.migrate()).rejects.toBeInstanceOf(TransactionIdsRewound);
  });
});
