import { defineEvent, type Projection, UpcasterRegistry } from '@annals/core';
import { PostgresEventStore, type PostgresProjectionContext } from '@annals/postgres';
import type { PGlite } from '@electric-sql/pglite';
import { type Kysely, sql, type Transaction } from 'kysely';
import { afterAll, beforeAll } from 'vitest';
import { z } from 'zod';
import { startPGlite } from './pglite.js';

/** The tests of the PostgreSQL projection stores and runner: events, a read model, and waiting. */

export const Opened = defineEvent('Opened', { schema: z.object({ accountId: z.string() }) });
export const Deposited = defineEvent('Deposited', {
  schema: z.object({ accountId: z.string(), amount: z.number() }),
});
export const Noted = defineEvent('Noted', { schema: z.object({ text: z.string() }) });
export const upcasters = new UpcasterRegistry().register({
  type: 'FundsAdded',
  from: 1,
  toType: 'Deposited',
  to: 1,
  up: (d: { accountId: string; amount: number }) => d,
});

export const silent = { warn: () => {}, error: () => {} };
export const fastFailure = { retries: 2, backoff: { initialDelayMs: 1, maxDelayMs: 5 } };

export { waitFor } from './wait-for.js';

/**
 * A lease time-to-live no pause of a loaded test process comes near, so a lease moves only when the
 * test means it to (`stop()` releases it). With a shorter one a pause hands the projection to the
 * other runner at a moment the test does not expect (the transaction keeps it exactly once).
 */
export const HONEST_TTL_MS = 3_000;

/** What an inline projection of a test store may write: the fixture's read model. */
export interface ReadModelWriters {
  readonly apply: (
    tx: Transaction<any>,
    e: { id: string; data: { accountId: string; amount: number } },
  ) => Promise<void>;
  readonly applyAll: (
    tx: Transaction<any>,
    events: readonly { id: string; data: { accountId: string; amount: number } }[],
  ) => Promise<void>;
}

/** Lists a test store's inline projections, given the writers of its read model. */
export type InlineProjections = (model: ReadModelWriters) => readonly Projection<PostgresProjectionContext>[];

/**
 * Starts one PGlite for the calling test file (closed after it) and returns `setup`, which opens a
 * fresh store in its own schema on it.
 */
export function usePGliteReadModel() {
  let pglite: PGlite;
  let schemas = 0;
  beforeAll(async () => {
    pglite = await startPGlite();
  });
  afterAll(async () => {
    await pglite?.close();
  });

  /**
   * A fresh store in its own schema, with a read model: balances, and how often each event was
   * applied; `inline` lists the store's inline projections, which may write that read model.
   */
  async function setup(inline?: InlineProjections) {
    const schema = `proj_${process.pid}_${++schemas}`;
    /** Applies a deposit to the read model inside the batch's transaction. */
    const apply = async (
      tx: Transaction<any>,
      e: { id: string; data: { accountId: string; amount: number } },
    ) => {
      const t = tx.withSchema(schema);
      await t
        .insertInto('balances')
        .values({ account_id: e.data.accountId, balance: e.data.amount })
        .onConflict((c) =>
          c
            .column('account_id')
            .doUpdateSet({ balance: sql`${sql.ref('balances.balance')} + ${e.data.amount}` }),
        )
        .execute();
      await t
        .insertInto('applied')
        .values({ event_id: e.id, times: 1 })
        .onConflict((c) => c.column('event_id').doUpdateSet({ times: sql`${sql.ref('applied.times')} + 1` }))
        .execute();
    };
    /** The same read model written set-based: two statements per batch, whatever its size. */
    const applyAll = async (
      tx: Transaction<any>,
      events: readonly { id: string; data: { accountId: string; amount: number } }[],
    ) => {
      const balances = sql.id(schema, 'balances');
      const applied = sql.id(schema, 'applied');
      await sql`insert into ${balances} as b (account_id, balance)
        select a, sum(n) from unnest(${events.map((e) => e.data.accountId)}::text[], ${events.map((e) => e.data.amount)}::bigint[]) as u(a, n)
        group by a
        on conflict (account_id) do update set balance = b.balance + excluded.balance`.execute(tx);
      await sql`insert into ${applied} as t (event_id, times)
        select id, 1 from unnest(${events.map((e) => e.id)}::uuid[]) as u(id)
        on conflict (event_id) do update set times = t.times + 1`.execute(tx);
    };
    const reset = async (tx: Transaction<any>) => {
      await tx.withSchema(schema).deleteFrom('balances').execute();
      await tx.withSchema(schema).deleteFrom('applied').execute();
    };
    const store = await PostgresEventStore.create(
      { pglite: pglite as never },
      {
        schema,
        events: [Opened, Deposited, Noted],
        upcasters,
        inlineProjections: inline?.({ apply, applyAll }),
      },
    );
    await store.migrate();
    const db = store.kysely.withSchema(schema) as Kysely<any>;
    await sql`create table ${sql.id(schema, 'balances')} (account_id text primary key, balance bigint not null)`.execute(
      store.kysely,
    );
    await sql`create table ${sql.id(schema, 'applied')} (event_id uuid primary key, times integer not null)`.execute(
      store.kysely,
    );
    /** Every deposit applied exactly once, and nothing else applied. */
    const exactlyOnce = async () => {
      const events = await db
        .selectFrom('events')
        .select(sql<number>`count(*)::int`.as('n'))
        .where('type', 'in', ['Deposited', 'FundsAdded'])
        .executeTakeFirstOrThrow();
      const applied = await db
        .selectFrom('applied')
        .select([sql<number>`count(*)::int`.as('n'), sql<number>`coalesce(max(times), 0)::int`.as('max')])
        .executeTakeFirstOrThrow();
      return { events: events.n, applied: applied.n, maxTimes: applied.max };
    };
    const balance = async (accountId: string) =>
      Number(
        (
          await db
            .selectFrom('balances')
            .select('balance')
            .where('account_id', '=', accountId)
            .executeTakeFirst()
        )?.balance ?? 0,
      );
    const deposit = (accountId: string, amount: number) =>
      store.append(`account-${accountId}`, [Deposited.create({ accountId, amount })]);
    return { schema, store, db, apply, applyAll, reset, exactlyOnce, balance, deposit };
  }
  return setup;
}
