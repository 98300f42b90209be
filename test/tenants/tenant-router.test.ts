import { defineEvent, exportEvents, importEvents } from '@annals/core';
import { PostgresEventStore, TenantRouter } from '@annals/postgres';
import { expectAnnalsError, toArray } from '@annals/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { waitFor } from '../support/wait-for.js';

// Three "databases" as three schemas of the test database: the router's logic is the same whether
// they share a server or not (test/scale runs it over three clusters).
const databaseUrl = process.env.DATABASE_URL;
const prefix = `rt_${process.pid}`;
const Noted = defineEvent('Noted', { version: 1, schema: z.object({ n: z.number().int() }) });
const stores: PostgresEventStore[] = [];
let routers = 0;

async function databases(): Promise<Record<string, PostgresEventStore>> {
  const run = ++routers;
  const entries: [string, PostgresEventStore][] = [];
  for (const name of ['db1', 'db2', 'db3']) {
    const store = await PostgresEventStore.create(
      { connectionString: databaseUrl!, pool: { max: 3 } },
      { events: [Noted], schema: `${prefix}_${run}_${name}` },
    );
    await store.migrate();
    stores.push(store);
    entries.push([name, store]);
  }
  return Object.fromEntries(entries);
}

const noted = (n: number) => Noted.create({ n });

afterAll(async () => {
  for (const store of stores) await store.close();
  if (databaseUrl === undefined) return;
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ nspname: string }>(
      'select nspname from pg_namespace where nspname like $1',
      [`${prefix}\\_%`],
    );
    for (const { nspname } of rows) await client.query(`drop schema ${pg.escapeIdentifier(nspname)} cascade`);
  } finally {
    await client.end();
  }
});

describe.skipIf(!databaseUrl)('TenantRouter', () => {
  let dbs: Record<string, PostgresEventStore>;
  beforeAll(async () => {
    dbs = await databases();
  });

  it('places by hash, by an explicit database, least-loaded; a placement never moves when the strategy changes', async () => {
    const router = await TenantRouter.open({ databases: dbs, placement: 'hash' });
    const hashed = await router.createTenant('hashed');
    const explicit = await router.createTenant('pinned', { database: 'db3' });
    expect(explicit.database).toBe('db3');
    const other = await TenantRouter.open({ databases: dbs, placement: () => 'db1' });
    // Placed already: the other strategy changes nothing.
    expect((await other.createTenant('hashed')).database).toBe(hashed.database);
    const leastLoaded = await TenantRouter.open({ databases: dbs, placement: 'least-loaded' });
    const loads = new Map<string, number>();
    for (const p of await leastLoaded.tenants()) loads.set(p.database, (loads.get(p.database) ?? 0) + 1);
    const emptiest = ['db1', 'db2', 'db3'].find((name) => !loads.has(name))!;
    expect((await leastLoaded.createTenant('fresh')).database).toBe(emptiest);
    await expectAnnalsError(() => router.tenant('nobody'), 'TENANT_NOT_FOUND');
    await expectAnnalsError(() => router.createTenant('Not Valid'), 'INVALID_TENANT_ID');
    await expectAnnalsError(() => router.createTenant('x', { database: 'db9' }), 'INVALID_ARGUMENT');
  });

  it("keeps each tenant's log in its own database, with its own order", async () => {
    // #region router
    const router = await TenantRouter.open({ databases: dbs }); // { db1, db2, db3 }: PostgresEventStores
    await router.createTenant('t1', { database: 'db1' }); // or placed by the strategy (hash by default)
    await router.createTenant('t2', { database: 'db2' });
    await router.withTenant('t1', (store) => store.append('s-1', [noted(1), noted(2)]));
    await router.withTenant('t2', (store) => store.append('s-1', [noted(3)]));
    // #endregion router
    const t1 = await toArray((await router.tenant('t1')).readAll());
    const t2 = await toArray((await router.tenant('t2')).readAll());
    expect(t1.map((e) => e.data)).toEqual([{ n: 1 }, { n: 2 }]);
    expect(t2.map((e) => e.data)).toEqual([{ n: 3 }]);
    expect((await router.tenant('t1')).schema).toBe(`${dbs.db1!.schema}_t_t1`);
  });

  it('moves a tenant while it takes writes: verified, the old place refuses writes with TenantMoved, nothing lost or doubled', async () => {
    const router = await TenantRouter.open({ databases: dbs });
    const stale = await TenantRouter.open({ databases: dbs }); // another process, its cache from before the move
    await router.createTenant('mover', { database: 'db1' });
    await stale.tenants();
    let written = 0;
    let writing = true;
    const writer = (async () => {
      while (writing) {
        const n = ++written;
        await stale.withTenant('mover', (s) => s.append(`s-${n % 5}`, [noted(n)]));
      }
    })();
    while (written < 50) await new Promise((resolve) => setTimeout(resolve, 10));
    // #region move
    const result = await router.moveTenant('mover', 'db2'); // copy, fence, copy the rest, verify, cut over
    // #endregion move
    writing = false;
    await writer;
    expect(result).toMatchObject({ tenantId: 'mover', from: 'db1', to: 'db2' });
    expect((await router.placement('mover')).database).toBe('db2');
    const old = dbs.db1!.forTenant('mover');
    const refused = await expectAnnalsError(() => old.append('s-1', [noted(-1)]), 'TENANT_MOVED');
    expect(refused.message).toContain('db2');
    // The log is read below the horizon, which another session's open transaction may hold back.
    const target = await router.tenant('mover');
    await waitFor(
      async () => (await toArray(target.readAll())).length >= written,
      `the ${written} events of the moved tenant readable in db2`,
    );
    const moved = await toArray(target.readAll());
    const values = moved.map((e) => (e.data as { n: number }).n).sort((a, b) => a - b);
    expect(values).toEqual(Array.from({ length: written }, (_, i) => i + 1));
    // Each stream kept its revisions.
    for (const e of moved)
      expect(e.revision).toBe(BigInt(moved.filter((m) => m.streamId === e.streamId).indexOf(e)));
  });

  it('resumes a move that stopped halfway, copying only what is missing', async () => {
    const router = await TenantRouter.open({ databases: dbs });
    await router.createTenant('halfway', { database: 'db3' });
    const source = await router.tenant('halfway');
    for (let i = 0; i < 10; i++) await source.append(`s-${i}`, [noted(i), noted(i + 100)]);
    // What an interrupted run left: the first 8 events copied to db1.
    const target = dbs.db1!.forTenant('halfway');
    await target.migrate();
    const firstEight = (await toArray(exportEvents(source))).slice(0, 8);
    await importEvents(
      target,
      (async function* () {
        yield* firstEight;
      })(),
    );
    const result = await router.moveTenant('halfway', 'db1');
    expect(result).toMatchObject({ events: 20, copied: 12 });
    // Both logs are read below the horizon, which another session's open transaction may hold back.
    const readable = (store: typeof source) => async () => (await toArray(store.readAll())).length >= 20;
    await waitFor(readable(source), 'the 20 events of the tenant readable in db3');
    await waitFor(readable(target), 'the 20 events of the moved tenant readable in db1');
    const sourceIds = (await toArray(source.readAll())).map((e) => e.id);
    expect((await toArray(target.readAll())).map((e) => e.id)).toEqual(sourceIds);
  });
});
