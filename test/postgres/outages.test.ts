import { defineEvent, defineProjection, type RecordedEvent, uuidv7 } from '@annals/core';
import {
  PostgresEventStore,
  type PostgresEventStoreOptions,
  type PostgresProjectionContext,
  PostgresProjectionRunner,
  StoreUnavailable,
  type SubscriptionHealth,
} from '@annals/postgres';
import { Kysely, PGliteDialect, sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { freePort } from '../support/free-port.js';
import { FlakyDialect } from './support/flaky-dialect.js';
import { databaseUrl, useTestDatabase } from './support/test-database.js';

const db = useTestDatabase('outages');
const onServer = databaseUrl === undefined ? describe.skip : describe;

const Noted = defineEvent('Noted', { schema: z.object({ n: z.number() }) });
/** Ends the session the statement runs in, as a fast shutdown or an administrator would (57P01). */
const killOwnBackend = sql`select pg_terminate_backend(pg_backend_pid())`;

function causeCode(error: unknown): unknown {
  return (error as { cause?: { code?: unknown } }).cause?.code;
}

onServer('a connection that dies (server)', () => {
  it('inside store.transaction(): StoreUnavailable whose cause is the first error, not the failed ROLLBACK', async () => {
    const store = await db.open('server');
    const error = await store
      .transaction(async (tx) => {
        await killOwnBackend.execute(tx);
      })
      .catch((e: unknown) => e);
    expect(error, `the error was ${String(error)}`).toBeInstanceOf(StoreUnavailable);
    expect(causeCode(error), 'the cause: the 57P01 of the statement, not the rollback error').toBe('57P01');
    // The store goes on with another connection.
    await store.append('after', [{ type: 'T', data: {} }]);
  });

  it('under an append through inline projections: StoreUnavailable, nothing stored, a retry with the same ids appends once', async () => {
    let kills = 1;
    const applied: number[] = [];
    const projection = defineProjection({
      name: 'inline-noted',
      events: [Noted],
      handlers: {
        Noted: async (e, { tx }: PostgresProjectionContext) => {
          if (kills-- > 0) await killOwnBackend.execute(tx);
          applied.push(e.data.n);
        },
      },
    });
    const store = await db.open('server', { events: [Noted], inlineProjections: [projection] });
    const events = [Noted.create({ n: 1 }, { id: uuidv7() })];
    const error = await store.append('inline-1', events).catch((e: unknown) => e);
    expect(error, `the error was ${String(error)}`).toBeInstanceOf(StoreUnavailable);
    expect(causeCode(error)).toBe('57P01');
    expect((error as Error).message).toMatch(/same event ids is safe/);
    await store.append('inline-1', events);
    const stored: RecordedEvent[] = [];
    for await (const e of store.readStream('inline-1')) stored.push(e);
    expect(stored.map((e) => e.id)).toEqual(events.map((e) => e.id));
    expect(applied).toEqual([1]);
  });

  it('a runner with failure: { retries: 0 } survives handlers whose connection dies, and applies each event once', async () => {
    const store = await db.open('server', { events: [Noted] });
    const table = sql.id(store.schema, 'seen');
    await sql`create table ${table} (n int primary key)`.execute(store.kysely);
    for (let n = 0; n < 5; n++) await store.append(`s-${n}`, [Noted.create({ n })]);
    let kills = 4;
    const projection = defineProjection({
      name: 'seen',
      events: [Noted],
      failure: { retries: 0 },
      handlers: {
        Noted: async (e, { tx }: PostgresProjectionContext) => {
          if (kills-- > 0) await killOwnBackend.execute(tx);
          await sql`insert into ${table} (n) values (${e.data.n})`.execute(tx);
        },
      },
    });
    const runner = new PostgresProjectionRunner({
      store,
      projections: [projection],
      logger: { warn: () => {}, error: () => {} },
    });
    await runner.start();
    try {
      await runner.waitUntilCaughtUp('seen');
      const status = runner.status('seen')!;
      expect(status.state, `after 4 dead connections: ${status.lastError?.message}`).toBe('running');
      const rows = await sql<{ n: number }>`select n from ${table} order by n`.execute(store.kysely);
      expect(rows.rows.map((r) => r.n)).toEqual([0, 1, 2, 3, 4]);
    } finally {
      await runner.stop();
    }
  });

  it('create() on a database that does not exist: StoreUnavailable naming the target without its password and what to check', async () => {
    const url = new URL(databaseUrl!);
    url.password = 'secret-pw';
    url.pathname = '/annals_no_such_database';
    const error = await PostgresEventStore.create({ connectionString: url.toString() }).catch(
      (e: unknown) => e,
    );
    expect(error, `the error was ${String(error)}`).toBeInstanceOf(StoreUnavailable);
    const message = (error as Error).message;
    expect(message).toContain(`${url.hostname}:${url.port || '5432'}/annals_no_such_database`);
    expect(message).not.toContain('secret-pw');
    expect(message).toMatch(/no database "annals_no_such_database".*CREATE DATABASE/);
    expect(causeCode(error)).toBe('3D000');
  });
});

describe('a connection that cannot be made', () => {
  it('create() on a port where nothing listens: StoreUnavailable naming the target without its password and what to check', async () => {
    const port = await freePort();
    const target = `postgres://annals:secret-pw@127.0.0.1:${port}/somedb`;
    const error = await PostgresEventStore.create({ connectionString: target }).catch((e: unknown) => e);
    expect(error, `the error was ${String(error)}`).toBeInstanceOf(StoreUnavailable);
    const message = (error as Error).message;
    expect(message).toContain(`postgres://annals@127.0.0.1:${port}/somedb`);
    expect(message).not.toContain('secret-pw');
    expect(message).toMatch(/ECONNREFUSED/);
    expect(message).toMatch(/Check that the PostgreSQL server is running/);
  });
});

describe('subscriptions wait out an outage (pglite, reads failing as on a lost connection)', () => {
  async function flakyStore(options: PostgresEventStoreOptions = {}) {
    const dialect = new FlakyDialect(new PGliteDialect({ pglite: db.pglite }), /as "page"/);
    const kysely = new Kysely<any>({ dialect });
    const store = await PostgresEventStore.create(
      { kysely },
      { schema: db.schema('pglite'), polling: { minMs: 1, maxMs: 5 }, ...options },
    );
    await store.migrate();
    return { store, dialect };
  }

  it('a live subscription rides out any number of failed reads, reports its health, and delivers every event once', async () => {
    const health: SubscriptionHealth['status'][] = [];
    const { store, dialect } = await flakyStore({
      subscriptions: { onHealth: (h: SubscriptionHealth) => health.push(h.status) },
    });
    try {
      await store.append('a', [{ type: 'T', data: { n: 0 } }]);
      dialect.failNext(60, { afterRunning: false });
      const subscription = store.subscribeToAll();
      const seen: unknown[] = [];
      for await (const event of subscription) {
        seen.push(event.data);
        if (seen.length === 1) await store.append('a', [{ type: 'T', data: { n: 1 } }]);
        if (seen.length === 2) break;
      }
      expect(seen).toEqual([{ n: 0 }, { n: 1 }]);
      expect(health).toEqual(['unavailable', 'live']);
    } finally {
      await store.close();
    }
  });

  it('with subscriptions.maxUnavailableMs, ends with StoreUnavailable carrying the driver error once the limit passed', async () => {
    const { store, dialect } = await flakyStore({ subscriptions: { maxUnavailableMs: 50 } });
    try {
      dialect.failNext(100_000, { afterRunning: false });
      const error = await (async () => {
        for await (const _ of store.subscribeToAll()) {
          // nothing is readable
        }
      })().catch((e: unknown) => e);
      expect(error, `the error was ${String(error)}`).toBeInstanceOf(StoreUnavailable);
      expect(causeCode(error)).toBe('57P01');
      expect((error as Error).message).toMatch(/maxUnavailableMs: 50/);
    } finally {
      await store.close();
    }
  });
});

describe("a connection whose socket breaks (pglite, the driver's errors injected)", () => {
  it('a runner with failure: { retries: 0 } survives a broken socket at the checkpoint, whose ROLLBACK then fails too', async () => {
    const dialect = new FlakyDialect(
      new PGliteDialect({ pglite: db.pglite }),
      /update "[^"]+"\."checkpoints"|insert into "[^"]+"\."checkpoints"/,
    );
    const kysely = new Kysely<any>({ dialect });
    const store = await PostgresEventStore.create(
      { kysely },
      { schema: db.schema('pglite'), events: [Noted] },
    );
    await store.migrate();
    const seen: number[] = [];
    const projection = defineProjection({
      name: 'socket',
      events: [Noted],
      failure: { retries: 0 },
      handlers: { Noted: (e) => void seen.push(e.data.n) },
    });
    for (let n = 0; n < 3; n++) await store.append('s', [Noted.create({ n })]);
    // Three outages in a row, each: the checkpoint write dies with the socket, then its ROLLBACK fails.
    dialect.failNext(3, { afterRunning: false, code: 'ECONNRESET' });
    dialect.failNextRollbacks(3);
    const runner = new PostgresProjectionRunner({
      store,
      projections: [projection],
      logger: { warn: () => {}, error: () => {} },
    });
    await runner.start();
    try {
      await runner.waitUntilCaughtUp('socket');
      const status = runner.status('socket')!;
      expect(status.state, `after three broken sockets: ${status.lastError?.message}`).toBe('running');
      expect(status.lastError?.message).toMatch(/StoreUnavailable.*ECONNRESET/);
    } finally {
      await runner.stop();
      await store.close();
    }
  });

  it('store.transaction(): the broken socket is the cause of the StoreUnavailable, not the ROLLBACK that failed after it', async () => {
    const dialect = new FlakyDialect(new PGliteDialect({ pglite: db.pglite }), /^select 1 as one$/);
    const kysely = new Kysely<any>({ dialect });
    const store = await PostgresEventStore.create({ kysely }, { schema: db.schema('pglite') });
    await store.migrate();
    try {
      dialect.failNext(1, { afterRunning: false, code: 'ECONNRESET' });
      dialect.failNextRollbacks(1);
      const error = await store
        .transaction((tx) => sql`select 1 as one`.execute(tx))
        .catch((e: unknown) => e);
      expect(error, `the error was ${String(error)}`).toBeInstanceOf(StoreUnavailable);
      expect(causeCode(error)).toBe('ECONNRESET');
    } finally {
      await store.close();
    }
  });
});

describe('append retries (pglite)', () => {
  it('a run of reorder retries does not use up the budget for re-running a statement the session lost', async () => {
    const dialect = new FlakyDialect(new PGliteDialect({ pglite: db.pglite }), /annals_append_tagged"\(/);
    const kysely = new Kysely<any>({ dialect });
    const store = await PostgresEventStore.create({ kysely }, { schema: db.schema('pglite') });
    await store.migrate();
    try {
      // Six answers as if a newer transaction had taken the stream (the revision holds: reorder),
      // then a prepared statement the session lost (26000): each cause stays within its own budget.
      dialect.failNext(6, { afterRunning: false, noRows: true });
      dialect.failNext(1, { afterRunning: false, code: '26000' });
      const result = await store.append('budget', [{ type: 'T', data: {} }]);
      expect(result.nextExpectedRevision).toBe(0n);
    } finally {
      await store.close();
    }
  });
});
