import {
  defineEvent,
  defineProjection,
  type EventRegistryOptions,
  isConcurrencyConflict,
  type RecordedEvent,
} from '@annals/core';
import {
  PostgresEventStore,
  PostgresLeaseStore,
  type PostgresProjectionContext,
  PostgresProjectionRunner,
} from '@annals/postgres';
import { dcbRaceCase, runConformanceCase, toArray } from '@annals/testing';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { findPgbouncer, type RunningPgbouncer, startPgbouncer } from './support/pgbouncer.js';
import { databaseUrl, eventually, withServer } from './support/test-database.js';

const executable = findPgbouncer();
const skipReason =
  databaseUrl === undefined
    ? 'DATABASE_URL is not set'
    : executable === undefined
      ? 'pgbouncer is not installed (apt-get install -y pgbouncer)'
      : undefined;

const Deposited = defineEvent('Deposited', { schema: z.object({ account: z.string(), amount: z.number() }) });
/** Polling so slow that only a notification can wake a subscriber during the test. */
const NO_POLLING = { minMs: 3_600_000, maxMs: 3_600_000 };

describe.skipIf(skipReason !== undefined)(
  `PostgresEventStore through PgBouncer in transaction mode${skipReason === undefined ? '' : ` (skipped: ${skipReason})`}`,
  () => {
    let bouncer: RunningPgbouncer | undefined;
    const schemas: string[] = [];
    const stores: PostgresEventStore[] = [];
    let count = 0;

    beforeAll(async () => {
      // Two server connections for every client: statements of one store hop between them.
      bouncer = await startPgbouncer(executable!, databaseUrl!, { poolSize: 2 });
    });
    afterAll(async () => {
      for (const store of stores.reverse()) await store.close().catch(() => {});
      await bouncer?.stop();
      await withServer(async (client) => {
        for (const schema of schemas)
          await client.query(`drop schema if exists ${pg.escapeIdentifier(schema)} cascade`);
      });
    });

    /**
     * A store whose queries go through the bouncer (unnamed statements), with its LISTEN connection
     * direct to the server: a pooler in transaction mode cannot hold a LISTEN.
     */
    async function throughBouncer(
      options: { schema?: string; polling?: typeof NO_POLLING; events?: EventRegistryOptions['events'] } = {},
    ): Promise<PostgresEventStore> {
      const schema = options.schema ?? `pgb_${process.pid}_${++count}`;
      if (!schemas.includes(schema)) schemas.push(schema);
      const bouncerUrl = bouncer!.url; // postgres://user@127.0.0.1:<port>/test, pool_mode = transaction
      const serverUrl = databaseUrl!; // the server itself
      const polling = options.polling === undefined ? {} : { polling: options.polling };
      const events = options.events ?? [Deposited];
      // #region pgbouncer
      const store = await PostgresEventStore.create(
        {
          connectionString: bouncerUrl, // every query goes through PgBouncer
          preparedStatements: false, // PgBouncer before 1.21, or without max_prepared_statements
          listenConnectionString: serverUrl, // LISTEN holds a session: straight to the server
          pool: { max: 6 },
        },
        { schema, events, ...polling },
      );
      // #endregion pgbouncer
      stores.push(store);
      return store;
    }

    /**
     * Migrations run on a direct connection, as docs/guides/postgres.md advises: Kysely's migrator holds a
     * session-level advisory lock across statements, which a transaction-mode pooler may spread over
     * several server connections (leaving the lock held on one of them).
     */
    async function migrateDirectly(schema: string): Promise<void> {
      const direct = await PostgresEventStore.create({ connectionString: databaseUrl! }, { schema });
      try {
        await direct.migrate();
      } finally {
        await direct.close();
      }
    }

    /** Transactions the bouncer has served for the test database so far. */
    async function bouncedTransactions(): Promise<number> {
      const admin = new pg.Client({ connectionString: bouncer!.adminUrl });
      await admin.connect();
      try {
        const { rows } = await admin.query('SHOW STATS');
        const database = new URL(databaseUrl!).pathname.slice(1);
        return Number(rows.find((row) => row.database === database)?.total_xact_count ?? 0);
      } finally {
        await admin.end();
      }
    }

    it('appends (concurrency checks, idempotent retries, transactions) and reads through the bouncer', {
      timeout: 120_000,
    }, async () => {
      const before = await bouncedTransactions();
      const store = await throughBouncer();
      await migrateDirectly(store.schema);

      const first = await store.append('account-1', [Deposited.create({ account: '1', amount: 5 })], {
        expectedRevision: 'no_stream',
      });
      const conflict = await store
        .append('account-1', [Deposited.create({ account: '1', amount: 1 })], {
          expectedRevision: 'no_stream',
        })
        .catch((error: unknown) => error);
      expect(isConcurrencyConflict(conflict), `a stale expected revision: ${String(conflict)}`).toBe(true);
      const retried = Deposited.create(
        { account: '1', amount: 2 },
        { id: '0190d2a6-0000-7000-8000-000000000001' },
      );
      const once = await store.append('account-1', [retried], {
        expectedRevision: first.nextExpectedRevision,
      });
      expect(
        await store.append('account-1', [retried], { expectedRevision: first.nextExpectedRevision }),
      ).toEqual(once);
      // Many appends at once, more than the bouncer has server connections.
      await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          store.append(`account-${2 + (i % 5)}`, [Deposited.create({ account: String(i), amount: i })]),
        ),
      );
      await store.transaction(async (tx) => {
        await store.append('account-1', [Deposited.create({ account: '1', amount: 3 })], { transaction: tx });
        await store.append('account-9', [Deposited.create({ account: '9', amount: 4 })], { transaction: tx });
      });

      const stream = await toArray(store.readStream('account-1'));
      expect(stream.map((e) => (e.data as { amount: number }).amount)).toEqual([5, 2, 3]);
      // The global log is read below the horizon: another session's open transaction may hold it a while.
      expect(
        await eventually(async () => (await toArray(store.readAll())).length === 34, 60_000),
        'all 34 events in the global log',
      ).toBe(true);
      // Every statement above went through it; concurrent appends share transactions (group commit).
      expect(await bouncedTransactions(), 'transactions the bouncer served').toBeGreaterThan(before + 8);
    });

    it('append conditions hold through the bouncer: the concurrency oracle with 24 racers', {
      timeout: 120_000,
    }, async () => {
      await runConformanceCase(dcbRaceCase(24), {
        capabilities: { multiProcess: true, concurrentCommits: true, appendConditions: true },
        async createStore(options) {
          const store = await throughBouncer({
            ...(options.events === undefined ? {} : { events: options.events }),
          });
          await migrateDirectly(store.schema);
          return store;
        },
      });
    });

    it('live subscriptions: the LISTEN connection goes to the server directly and wakes a subscriber when another instance appends through the bouncer', async () => {
      const reader = await throughBouncer({ polling: NO_POLLING });
      await migrateDirectly(reader.schema);
      const writer = await throughBouncer({ schema: reader.schema });
      await writer.append('account-1', [Deposited.create({ account: '1', amount: 1 })]);

      const events: RecordedEvent[] = [];
      const subscription = reader.subscribeToStream('account-1');
      const done = (async () => {
        for await (const event of subscription) events.push(event);
      })();
      // The stored event (catch-up), and the LISTEN open on a direct connection.
      expect(await eventually(async () => events.length === 1), 'the catch-up of the stored event').toBe(
        true,
      );
      const listening = async () =>
        withServer(async (client) => {
          const { rows } = await client.query<{ n: number }>(
            'select count(*)::int as n from pg_stat_activity where query = $1',
            [`LISTEN "${reader.schema}_events"`],
          );
          return rows[0]!.n === 1;
        });
      expect(await eventually(listening), 'the LISTEN connection of the reader').toBe(true);

      // Polling is off: only the NOTIFY sent through the bouncer after the commit can wake the reader.
      await writer.append('account-1', [Deposited.create({ account: '1', amount: 2 })]);
      expect(await eventually(async () => events.length === 2), 'the live event, woken by NOTIFY').toBe(true);
      expect(events.map((e) => e.data)).toEqual([
        { account: '1', amount: 1 },
        { account: '1', amount: 2 },
      ]);
      await subscription.stop();
      await done;
    });

    it('leases and a projection runner (transactions with the checkpoint, lease compare-and-swap) work through the bouncer', {
      timeout: 120_000,
    }, async () => {
      const store = await throughBouncer();
      await migrateDirectly(store.schema);
      const table = sql.id(store.schema, 'totals');
      await sql`create table ${table} (account text primary key, total bigint not null)`.execute(
        store.kysely,
      );
      const totals = defineProjection({
        name: 'totals',
        events: [Deposited],
        handlers: {
          Deposited: async (e, { tx }: PostgresProjectionContext) => {
            await sql`insert into ${table} (account, total) values (${e.data.account}, ${e.data.amount})
              on conflict (account) do update set total = ${table}.total + excluded.total`.execute(tx);
          },
        },
      });
      for (let i = 0; i < 20; i++)
        await store.append(`account-${i % 3}`, [Deposited.create({ account: String(i % 3), amount: 1 })]);

      const runner = new PostgresProjectionRunner({
        store,
        projections: [totals],
        leases: true,
        owner: 'bounced',
      });
      const leases = new PostgresLeaseStore(store);
      const readModel = async () =>
        (
          await sql<{
            account: string;
            total: string;
          }>`select account, total::text as total from ${table} order by account`.execute(store.kysely)
        ).rows;
      const expected = [
        { account: '0', total: '107' },
        { account: '1', total: '7' },
        { account: '2', total: '6' },
      ];
      await runner.start();
      expect((await leases.get('totals'))?.owner, 'the lease holder while the runner runs').toBe('bounced');
      expect(await leases.acquire('totals', 'someone-else', 10_000), 'another owner acquiring it').toBe(
        false,
      );
      await store.append('account-0', [Deposited.create({ account: '0', amount: 100 })]);
      // The runner reads the global log below the horizon, which another session may hold a while:
      // wait for the read model rather than for waitUntilCaughtUp (which counts readable events only).
      const applied = await eventually(
        async () => JSON.stringify(await readModel()) === JSON.stringify(expected),
        60_000,
      );
      expect(await readModel(), `the read model (complete: ${applied})`).toEqual(expected);
      expect(runner.status('totals')?.state).toBe('running');
      await runner.stop();
      expect(await leases.get('totals'), 'the lease after stop()').toBeUndefined();
    });
  },
);
