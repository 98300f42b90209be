/**
 * The code docs/concepts/projections.md shows (regions marked `// #region name`), run as tests; the
 * region `spec` is the projection spec the Testing guide describes.
 */
import {
  defineProjection,
  InMemoryEventStore,
  type Projection,
  ProjectionRunner,
  type RebuildProgress,
} from '@annals/core';
import {
  PostgresEventStore,
  type PostgresProjectionContext,
  PostgresProjectionRunner,
} from '@annals/postgres';
import { ProjectionSpec } from '@annals/testing';
import type { PGlite } from '@electric-sql/pglite';
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  AccountOpened,
  bankEvents,
  MoneyDeposited,
  MoneyWithdrawn,
} from '../../examples/bank-account/src/domain/index.js';
import { startPGlite } from '../support/pglite.js';

const quiet = { warn: () => {}, error: () => {} };

// #region in-memory-projection
/** The read model, handed to every handler as its context. */
interface Balances {
  readonly balances: Map<string, number>;
}

const AccountBalances = defineProjection({
  name: 'account-balances',
  events: [AccountOpened, MoneyDeposited, MoneyWithdrawn],
  handlers: {
    AccountOpened: (e, { balances }: Balances) => {
      balances.set(e.data.accountId, 0);
    },
    MoneyDeposited: (e, { balances }: Balances) => {
      balances.set(e.data.accountId, (balances.get(e.data.accountId) ?? 0) + e.data.amount.value);
    },
    MoneyWithdrawn: (e, { balances }: Balances) => {
      balances.set(e.data.accountId, (balances.get(e.data.accountId) ?? 0) - e.data.amount.value);
    },
  },
  reset: ({ balances }: Balances) => balances.clear(), // lets rebuild() start from an empty read model
});
// #endregion in-memory-projection

async function seed(store: InMemoryEventStore | PostgresEventStore) {
  await store.append('account-1', [
    AccountOpened.create({ accountId: 'acc-1', owner: 'Ada', currency: 'EUR', overdraftLimit: 0 }),
    MoneyDeposited.create({ accountId: 'acc-1', amount: { value: 100, currency: 'EUR' } }),
    MoneyWithdrawn.create({ accountId: 'acc-1', amount: { value: 30, currency: 'EUR' } }),
  ]);
}

describe('docs/concepts/projections.md', () => {
  it('runs a projection in memory', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const store = new InMemoryEventStore({ events: bankEvents });
    await seed(store);
    // #region run
    const model: Balances = { balances: new Map() };
    const runner = new ProjectionRunner({
      store,
      projections: [AccountBalances],
      context: () => model, // what handlers receive
    });
    await runner.start(); // catch-up from the checkpoint, then live

    await store.append('account-1', [
      MoneyDeposited.create({ accountId: 'acc-1', amount: { value: 5, currency: 'EUR' } }),
    ]);
    await runner.waitUntilCaughtUp(); // read models are eventually consistent
    console.log(model.balances.get('acc-1')); // 75

    const [status] = runner.status();
    console.log(status?.state, status?.position, status?.lag); // running 4n { events: 0, ms: 0 }
    await runner.stop(); // the batch in progress commits first
    // #endregion run
    expect(log.mock.calls).toEqual([[75], ['running', 4n, { events: 0, ms: 0 }]]);

    // #region rebuild
    const result = await runner.rebuild('account-balances', {
      onProgress: ({ done, total, rate, etaMs }) =>
        console.log(`${done}/${total}, ${rate.toFixed(0)}/s, ${etaMs} ms left`),
    });
    console.log(result.events); // 4: reset, then every event replayed
    // #endregion rebuild
    expect(log.mock.calls.at(-1)).toEqual([4]);
    expect(model.balances.get('acc-1')).toBe(75);
    log.mockRestore();
  });

  it('pauses a projection and resumes it from its checkpoint', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const store = new InMemoryEventStore({ events: bankEvents });
    await seed(store);
    const model: Balances = { balances: new Map() };
    const runner = new ProjectionRunner({ store, projections: [AccountBalances], context: () => model });
    await runner.start();
    await runner.waitUntilCaughtUp();
    // #region pause
    await runner.pause('account-balances'); // the batch in progress commits; nothing more is applied
    console.log(runner.status('account-balances')?.state); // paused
    await store.append('account-1', [
      MoneyDeposited.create({ accountId: 'acc-1', amount: { value: 5, currency: 'EUR' } }),
    ]);
    await runner.resume('account-balances'); // goes on from its checkpoint
    await runner.waitUntilCaughtUp();
    console.log(model.balances.get('acc-1')); // 75
    // #endregion pause
    await runner.stop();
    expect(log.mock.calls).toEqual([['paused'], [75]]);
    log.mockRestore();
  });

  it('skips a poison event only into the dead letters, when asked', async () => {
    const store = new InMemoryEventStore({ events: bankEvents });
    await seed(store);
    await store.append('account-2', [
      MoneyDeposited.create({ accountId: 'never-opened', amount: { value: 1, currency: 'EUR' } }),
    ]);
    // #region failure-policy
    const StrictBalances = defineProjection({
      name: 'strict-balances',
      events: [AccountOpened, MoneyDeposited],
      failure: {
        retries: 5, // then give up on this event ...
        backoff: { initialDelayMs: 10, maxDelayMs: 1000 }, // ... waiting 10, 20, 40 ... ms (with jitter) in between
        onExhausted: 'dead-letter', // ... record it and go on. The default, 'stop', stops the projection.
      },
      handlers: {
        AccountOpened: (e, { balances }: Balances) => {
          balances.set(e.data.accountId, 0);
        },
        MoneyDeposited: (e, { balances }: Balances) => {
          const balance = balances.get(e.data.accountId);
          if (balance === undefined) throw new Error(`unknown account ${e.data.accountId}`);
          balances.set(e.data.accountId, balance + e.data.amount.value);
        },
      },
    });
    // #endregion failure-policy
    const model: Balances = { balances: new Map() };
    const runner = new ProjectionRunner({
      store,
      projections: [StrictBalances],
      context: () => model,
      logger: quiet,
    });
    await runner.start();
    await runner.waitUntilCaughtUp();
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    // #region dead-letters
    const [letter] = await runner.deadLetters.list('strict-balances');
    console.log(letter?.streamId, letter?.error, letter?.attempts); // account-2 Error: unknown account never-opened 6
    // #endregion dead-letters
    expect(log.mock.calls).toEqual([['account-2', 'Error: unknown account never-opened', 6]]);
    log.mockRestore();
    expect(letter).toMatchObject({
      streamId: 'account-2',
      error: 'Error: unknown account never-opened',
      attempts: 6,
    });
    expect(runner.status('strict-balances')?.deadLettered).toBe(1);
    await runner.stop();
  });

  it('tests a projection with ProjectionSpec', async () => {
    // #region spec
    await ProjectionSpec.for(AccountBalances, {
      context: (): Balances => ({ balances: new Map() }),
      state: ({ balances }) => Object.fromEntries(balances),
    })
      .given([
        {
          streamId: 'account-1',
          ...AccountOpened.create({ accountId: 'acc-1', owner: 'Ada', currency: 'EUR', overdraftLimit: 0 }),
        },
        {
          streamId: 'account-1',
          ...MoneyDeposited.create({ accountId: 'acc-1', amount: { value: 100, currency: 'EUR' } }),
        },
        {
          streamId: 'account-1',
          ...MoneyWithdrawn.create({ accountId: 'acc-1', amount: { value: 30, currency: 'EUR' } }),
        },
      ])
      .then({ 'acc-1': 70 });
    // #endregion spec
  });

  describe('on PostgreSQL (PGlite)', () => {
    let pglite: PGlite;
    beforeAll(async () => {
      pglite = await startPGlite();
    });
    afterAll(async () => {
      await pglite.close();
    });

    // #region postgres-projection
    /** The read model's tables, for typed queries. */
    interface ReadModel {
      account_balances: { account_id: string; balance: number };
    }
    type Context = PostgresProjectionContext<ReadModel>; // { tx }: the batch's Kysely transaction

    const AccountBalancesTable = defineProjection({
      name: 'account-balances-table',
      events: [AccountOpened, MoneyDeposited, MoneyWithdrawn],
      handlers: {
        AccountOpened: async (e, { tx }: Context) => {
          await tx
            .insertInto('account_balances')
            .values({ account_id: e.data.accountId, balance: 0 })
            .execute();
        },
        MoneyDeposited: async (e, { tx }: Context) => {
          await tx
            .updateTable('account_balances')
            .set((eb) => ({ balance: eb('balance', '+', e.data.amount.value) }))
            .where('account_id', '=', e.data.accountId)
            .execute();
        },
        MoneyWithdrawn: async (e, { tx }: Context) => {
          await tx
            .updateTable('account_balances')
            .set((eb) => ({ balance: eb('balance', '-', e.data.amount.value) }))
            .where('account_id', '=', e.data.accountId)
            .execute();
        },
      },
      reset: async ({ tx }: Context) => {
        await tx.deleteFrom('account_balances').execute(); // in the transaction that rewinds the checkpoint
      },
    });
    // #endregion postgres-projection

    it('runs on PostgreSQL, exactly once per event', async () => {
      const log = vi.spyOn(console, 'log').mockImplementation(() => {});
      // #region postgres-runner
      const store = await PostgresEventStore.create({ pglite }, { events: bankEvents });
      await store.migrate(); // also creates the checkpoint, lease and dead-letter tables
      await sql`create table if not exists account_balances (account_id text primary key, balance integer not null)`.execute(
        store.kysely,
      );

      const runner = new PostgresProjectionRunner({ store, projections: [AccountBalancesTable] });
      await runner.start();
      // #endregion postgres-runner
      await seed(store);
      await runner.waitUntilCaughtUp();
      const db = store.kysely as Kysely<ReadModel>;
      const row = await db.selectFrom('account_balances').selectAll().executeTakeFirst();
      console.log(row);
      expect(log.mock.calls).toEqual([[{ account_id: 'acc-1', balance: 70 }]]);
      const progress: RebuildProgress[] = [];
      await runner.rebuild('account-balances-table', { onProgress: (p) => progress.push(p) });
      expect(progress.at(-1)).toMatchObject({ done: 3, total: 3 });
      expect(await db.selectFrom('account_balances').selectAll().execute()).toEqual([
        { account_id: 'acc-1', balance: 70 },
      ]);
      await runner.stop();
      await sql`drop table account_balances`.execute(store.kysely);
      await store.close();
      log.mockRestore();
    });

    // #region batch-projection
    const AccountBalancesBatch = defineProjection({
      name: 'account-balances-batch',
      events: [AccountOpened, MoneyDeposited, MoneyWithdrawn],
      // Instead of handlers: the whole batch (up to batchSize events, in log order) in one call.
      handleBatch: async (events, { tx }: Context) => {
        // Sum the batch per account in memory ...
        const changes = new Map<string, number>();
        for (const e of events) {
          const change =
            e.type === 'MoneyDeposited'
              ? e.data.amount.value
              : e.type === 'MoneyWithdrawn'
                ? -e.data.amount.value
                : 0;
          changes.set(e.data.accountId, (changes.get(e.data.accountId) ?? 0) + change);
        }
        // ... then write it with one statement, whatever the size of the batch.
        await tx
          .insertInto('account_balances')
          .values([...changes].map(([account_id, balance]) => ({ account_id, balance })))
          .onConflict((oc) =>
            oc.column('account_id').doUpdateSet((eb) => ({
              balance: eb('account_balances.balance', '+', eb.ref('excluded.balance')),
            })),
          )
          .execute();
      },
      reset: async ({ tx }: Context) => {
        await tx.deleteFrom('account_balances').execute();
      },
    });
    // #endregion batch-projection

    it('runs a batch projection on PostgreSQL, with the same read model', async () => {
      const store = await PostgresEventStore.create({ pglite }, { schema: 'batch', events: bankEvents });
      await store.migrate();
      await sql`create table batch.account_balances (account_id text primary key, balance integer not null)`.execute(
        store.kysely,
      );
      await seed(store);
      await store.append('account-2', [
        AccountOpened.create({ accountId: 'acc-2', owner: 'Grace', currency: 'EUR', overdraftLimit: 0 }),
        MoneyDeposited.create({ accountId: 'acc-2', amount: { value: 5, currency: 'EUR' } }),
      ]);
      const batches: number[] = [];
      const counted = defineProjection({
        name: AccountBalancesBatch.name,
        events: [AccountOpened, MoneyDeposited, MoneyWithdrawn],
        handleBatch: async (events, context: Context) => {
          batches.push(events.length);
          await AccountBalancesBatch.handleBatch(events, context);
        },
        reset: (context: Context) => AccountBalancesBatch.reset(context),
      });
      const runner = new PostgresProjectionRunner({
        store,
        projections: [counted],
        context: (tx) => ({ tx: tx!.withSchema('batch') }),
      });
      await runner.start();
      await runner.waitUntilCaughtUp();
      expect(batches).toEqual([5]); // one call, one upsert, for the five events
      const db = (store.kysely as Kysely<ReadModel>).withSchema('batch');
      const rows = () => db.selectFrom('account_balances').selectAll().orderBy('account_id').execute();
      expect(await rows()).toEqual([
        { account_id: 'acc-1', balance: 70 },
        { account_id: 'acc-2', balance: 5 },
      ]);
      await runner.rebuild(AccountBalancesBatch.name);
      expect(await rows()).toEqual([
        { account_id: 'acc-1', balance: 70 },
        { account_id: 'acc-2', balance: 5 },
      ]);
      await runner.stop();
      await store.close();
    });

    it('runs on several nodes and in shards', async () => {
      const store = await PostgresEventStore.create({ pglite }, { schema: 'nodes', events: bankEvents });
      await store.migrate();
      const applied: string[] = [];
      const AccountBalancesTable: Projection<PostgresProjectionContext> = defineProjection({
        name: 'account-balances-table',
        events: [MoneyDeposited],
        handlers: { MoneyDeposited: (e) => void applied.push(e.id) },
      });
      // #region leases
      // The same code on every node: each projection runs on one node at a time.
      const runner = new PostgresProjectionRunner({
        store,
        projections: [AccountBalancesTable],
        leases: true, // the default on a server; PGlite serves one process
        owner: `node-${process.pid}`, // names this node in leases (default: host, pid and a random suffix)
        leaseTtlMs: 10_000, // a dead node's projections move after about this long
      });
      // #endregion leases
      // #region sharding
      const AccountStatements = defineProjection({
        name: 'account-statements',
        events: [MoneyDeposited, MoneyWithdrawn],
        shards: 4, // four checkpoints and leases, spread over the nodes running it
        handlers: {
          MoneyDeposited: async (e, { tx }: PostgresProjectionContext) => {
            await sql`insert into statement_lines (account_id, event_id, amount) values (${e.data.accountId}, ${e.id}, ${e.data.amount.value})`.execute(
              tx,
            );
          },
          MoneyWithdrawn: async (e, { tx }: PostgresProjectionContext) => {
            await sql`insert into statement_lines (account_id, event_id, amount) values (${e.data.accountId}, ${e.id}, ${-e.data.amount.value})`.execute(
              tx,
            );
          },
        },
      });
      // #endregion sharding
      await sql`create table statement_lines (account_id text, event_id uuid primary key, amount integer)`.execute(
        store.kysely,
      );
      const sharded = new PostgresProjectionRunner({
        store,
        projections: [AccountStatements],
        leases: true,
        logger: quiet,
      });
      await Promise.all([runner.start(), sharded.start()]);
      await seed(store);
      await runner.waitUntilCaughtUp();
      await sharded.waitUntilCaughtUp();
      expect(applied).toHaveLength(1);
      expect(sharded.status().map((s) => s.key)).toEqual(
        [0, 1, 2, 3].map((i) => `account-statements[${i}/4]`),
      );
      const lines = await sql<{ n: number }>`select count(*)::int as n from statement_lines`.execute(
        store.kysely,
      );
      expect(lines.rows[0]?.n).toBe(2);
      await Promise.all([runner.stop(), sharded.stop()]);
      await store.close();
    });

    it('applies inline projections in the append transaction', async () => {
      await pglite.exec(
        'create schema inline; create table inline.account_balances (account_id text primary key, balance integer not null)',
      );
      const inlineBalances = defineProjection({
        name: 'inline-balances',
        events: [AccountOpened, MoneyDeposited],
        handlers: {
          AccountOpened: async (e, { tx }: PostgresProjectionContext) => {
            await tx
              .withSchema('inline')
              .insertInto('account_balances')
              .values({ account_id: e.data.accountId, balance: 0 })
              .execute();
          },
          MoneyDeposited: async (e, { tx }: PostgresProjectionContext) => {
            const updated = await tx
              .withSchema('inline')
              .updateTable('account_balances')
              .set((eb) => ({ balance: eb('balance', '+', e.data.amount.value) }))
              .where('account_id', '=', e.data.accountId)
              .executeTakeFirst();
            if (updated.numUpdatedRows === 0n) throw new Error(`no account ${e.data.accountId}`);
          },
        },
      });
      const log = vi.spyOn(console, 'log').mockImplementation(() => {});
      // #region inline
      const store = await PostgresEventStore.create(
        { pglite },
        { schema: 'inline', events: bankEvents, inlineProjections: [inlineBalances] },
      );
      await store.migrate();
      await store.append('account-9', [
        AccountOpened.create({ accountId: 'acc-9', owner: 'Grace', currency: 'EUR', overdraftLimit: 0 }),
        MoneyDeposited.create({ accountId: 'acc-9', amount: { value: 40, currency: 'EUR' } }),
      ]); // when append resolves, the balance is there: same transaction

      await store
        .append('account-x', [
          MoneyDeposited.create({ accountId: 'acc-x', amount: { value: 1, currency: 'EUR' } }),
        ])
        .catch((error) => {
          console.log(error.message); // no account acc-x: the handler failed, so nothing was stored
        });
      // #endregion inline
      expect(log.mock.calls).toEqual([['no account acc-x']]);
      log.mockRestore();
      const balances = await store.kysely
        .withSchema('inline')
        .selectFrom('account_balances')
        .selectAll()
        .execute();
      expect(balances).toEqual([{ account_id: 'acc-9', balance: 40 }]);
      const stored = [];
      for await (const e of store.readAll()) stored.push(e.streamId);
      expect(stored).toEqual(['account-9', 'account-9']);
      await store.close();
    });
  });
});
