import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RecordedEvent, Subscription } from '@annals/core';
import { PostgresEventStore } from '@annals/postgres';
import { toArray } from '@annals/testing';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { databaseUrl, eventually, targets, useTestDatabase } from './support/test-database.js';

const db = useTestDatabase('subs');

/** Polling so slow that only a notification can wake a subscriber during a test. */
const NO_POLLING = { minMs: 3_600_000, maxMs: 3_600_000 };

function drain(subscription: Subscription): { events: RecordedEvent[]; done: Promise<void> } {
  const events: RecordedEvent[] = [];
  const done = (async () => {
    for await (const event of subscription) events.push(event);
  })();
  return { events, done };
}

async function listeners(schema: string): Promise<number> {
  const rows = await db.raw<{ n: string }>(
    'server',
    `select count(*)::text as n from pg_stat_activity where query = $1`,
    [`LISTEN "${schema}_events"`],
  );
  return Number(rows[0]!.n);
}

describe.each(targets)('subscriptions (%s)', (target) => {
  it('a subscriber is woken by an append made through another store instance (NOTIFY), without polling', async () => {
    const reader = await db.open(target, { polling: NO_POLLING });
    const writer = await PostgresEventStore.create(db.connection(target), { schema: reader.schema });
    try {
      const subscription = reader.subscribeToAll();
      const { events, done } = drain(subscription);
      if (target === 'server') {
        expect(await eventually(async () => (await listeners(reader.schema)) === 1)).toBe(true);
      }
      await writer.append('elsewhere', [{ type: 'FromAnotherStore', data: {} }]);
      if (target === 'server') {
        // Another session may hold the horizon for a moment; once the event is readable, a later
        // notification (as any later append sends) must bring it.
        expect(await eventually(async () => (await toArray(writer.readAll())).length === 1)).toBe(true);
        if (events.length === 0)
          await db.raw('server', `select pg_notify($1, '')`, [`${reader.schema}_events`]);
      }
      expect(await eventually(async () => events.length === 1)).toBe(true);
      expect(events[0]?.type).toBe('FromAnotherStore');
      await subscription.stop();
      await done;
    } finally {
      await writer.close();
    }
  });

  it('appends through the same store wake its subscribers directly', async () => {
    const store = await db.open(target, { polling: NO_POLLING, notify: false });
    const subscription = store.subscribeToStream('s');
    const { events, done } = drain(subscription);
    await store.append('s', [{ type: 'One', data: {} }]);
    expect(await eventually(async () => events.length === 1)).toBe(true);
    await store.append('s', [{ type: 'Two', data: {} }]);
    expect(await eventually(async () => events.length === 2)).toBe(true);
    expect(events.map((e) => e.type)).toEqual(['One', 'Two']);
    await subscription.stop();
    await done;
  });

  it('appends inside store.transaction wake its subscribers after the commit, not before', async () => {
    const store = await db.open(target, { polling: NO_POLLING, notify: false });
    const subscription = store.subscribeToStream('t');
    const { events, done } = drain(subscription);
    await store.transaction(async (tx) => {
      await store.append('t', [{ type: 'InTransaction', data: {} }], { transaction: tx });
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(events, 'nothing is delivered before the commit').toEqual([]);
    });
    expect(await eventually(async () => events.length === 1)).toBe(true);
    expect(events[0]?.type).toBe('InTransaction');
    await subscription.stop();
    await done;
  });
});

describe.skipIf(!databaseUrl)('connections (server)', () => {
  it('listenConnectionString sends the LISTEN connection elsewhere than the pool', async () => {
    const schema = db.schema('server');
    const listenUrl = new URL(databaseUrl!);
    listenUrl.searchParams.set('application_name', `annals-listen-${process.pid}`);
    const store = await PostgresEventStore.create(
      { connectionString: databaseUrl!, listenConnectionString: listenUrl.toString() },
      { schema },
    );
    try {
      await store.migrate();
      const subscription = store.subscribeToAll();
      const { done } = drain(subscription);
      const listening = async () =>
        (
          await db.raw<{ n: string }>(
            'server',
            `select count(*)::text as n from pg_stat_activity where application_name = $1 and query = $2`,
            [`annals-listen-${process.pid}`, `LISTEN "${schema}_events"`],
          )
        )[0]!.n === '1';
      expect(await eventually(listening)).toBe(true);
      await subscription.stop();
      await done;
    } finally {
      await store.close();
    }
  });

  it('the LISTEN connection opens with the first subscription and closes after the last one stops', async () => {
    const store = await db.open('server');
    expect(await listeners(store.schema)).toBe(0);
    const first = store.subscribeToAll();
    const second = store.subscribeToStream('s');
    expect(await eventually(async () => (await listeners(store.schema)) === 1)).toBe(true);
    await first.stop();
    expect(await listeners(store.schema)).toBe(1);
    await second.stop();
    expect(await eventually(async () => (await listeners(store.schema)) === 0)).toBe(true);
  });

  it('close() ends the pool the store created, but leaves a Kysely instance it was given open', async () => {
    const application = `annals-close-${process.pid}`;
    const url = new URL(databaseUrl!);
    url.searchParams.set('application_name', application);
    const schema = db.schema('server');
    const owned = await PostgresEventStore.create({ connectionString: url.toString() }, { schema });
    await owned.migrate();
    await owned.append('s', [{ type: 'T', data: {} }]);
    const count = async () =>
      Number(
        (
          await db.raw<{ n: string }>(
            'server',
            `select count(*)::text as n from pg_stat_activity where application_name = $1`,
            [application],
          )
        )[0]!.n,
      );
    expect(await count()).toBeGreaterThan(0);
    await owned.close();
    expect(await eventually(async () => (await count()) === 0)).toBe(true);
    await expect(owned.append('s', [{ type: 'T', data: {} }])).rejects.toMatchObject({
      code: 'STORE_CLOSED',
    });

    const kysely = new Kysely<any>({
      dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: databaseUrl, max: 2 }) }),
    });
    try {
      const borrowed = await PostgresEventStore.create({ kysely }, { schema });
      await borrowed.close();
      const rows = await sql<{ one: number }>`select 1 as one`.execute(kysely);
      expect(rows.rows).toEqual([{ one: 1 }]);
    } finally {
      await kysely.destroy();
    }
  });
});

describe('connections (PGlite)', () => {
  it('close() leaves a PGlite instance it was given open', async () => {
    const store = await db.open('pglite');
    await store.close();
    expect(db.pglite.closed).toBe(false);
    expect((await db.pglite.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
  });

  it('a store opened on a data folder (parents created) keeps its events across a close and a reopen', async () => {
    const root = await mkdtemp(join(tmpdir(), 'annals-pglite-'));
    const folder = join(root, 'not', 'yet', 'there');
    try {
      const first = await PostgresEventStore.create({ pglite: folder });
      await first.migrate();
      const written = await first.append('account-1', [{ type: 'Opened', data: { owner: 'Ada' } }]);
      await first.close(); // closes the PGlite it opened, so the folder can be opened again
      const second = await PostgresEventStore.create({ pglite: folder });
      try {
        await second.migrate();
        const events = await toArray(second.readAll());
        expect(events.map((e) => [e.position, e.type, e.data])).toEqual([
          [written.firstPosition, 'Opened', { owner: 'Ada' }],
        ]);
        const next = await second.append('account-1', [{ type: 'Closed', data: {} }], {
          expectedRevision: 0n,
        });
        expect(next.firstPosition).toBeGreaterThan(written.lastPosition);
      } finally {
        await second.close();
      }
    } finally {
      await rm(root, { recursive: true, force: true });
    }
    // Two starts of PGlite from disk (the first runs initdb): seconds each on a quiet machine, far
    // more on a loaded one. The bound only catches a hang.
  }, 300_000);
});
