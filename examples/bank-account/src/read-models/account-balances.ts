import { defineProjection, SubjectForgottenEvent } from '@annals/core';
import type { PostgresProjectionContext } from '@annals/postgres';
import type { Kysely } from 'kysely';
import {
  AccountClosed,
  AccountOpened,
  FORGOTTEN_OWNER,
  MoneyDeposited,
  MoneyWithdrawn,
  ownerName,
} from '../domain/events.js';

/** The read model's tables, as Kysely sees them. */
export interface ReadModel {
  account_balances: {
    account_id: string;
    owner: string;
    currency: string;
    balance: number;
    overdraft_limit: number;
    status: 'open' | 'closed';
  };
}

/** The PostgreSQL schema that holds the read model (beside the store's own schema). */
export const readModelSchema = 'bank_read';

/** Creates the read-model table if it is missing. */
export async function createReadModel(db: Kysely<any>): Promise<void> {
  await db.schema.createSchema(readModelSchema).ifNotExists().execute();
  await db.schema
    .withSchema(readModelSchema)
    .createTable('account_balances')
    .ifNotExists()
    .addColumn('account_id', 'text', (c) => c.primaryKey())
    .addColumn('owner', 'text', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('balance', 'bigint', (c) => c.notNull())
    .addColumn('overdraft_limit', 'bigint', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .execute();
}

type Ctx = PostgresProjectionContext<ReadModel>;

// #region balances
/** Balances in a PostgreSQL table, written in the same transaction as the projection's checkpoint. */
export const AccountBalances = defineProjection({
  name: 'account-balances',
  events: [AccountOpened, MoneyDeposited, MoneyWithdrawn, AccountClosed, SubjectForgottenEvent],
  handlers: {
    AccountOpened: async (e, { tx }: Ctx) => {
      await tx
        .withSchema(readModelSchema)
        .insertInto('account_balances')
        .values({
          account_id: e.data.accountId,
          owner: ownerName(e.data.owner),
          currency: e.data.currency,
          balance: 0,
          overdraft_limit: e.data.overdraftLimit,
          status: 'open',
        })
        .execute();
    },
    MoneyDeposited: async (e, { tx }: Ctx) => {
      await tx
        .withSchema(readModelSchema)
        .updateTable('account_balances')
        .set((eb) => ({ balance: eb('balance', '+', e.data.amount.value) }))
        .where('account_id', '=', e.data.accountId)
        .execute();
    },
    MoneyWithdrawn: async (e, { tx }: Ctx) => {
      await tx
        .withSchema(readModelSchema)
        .updateTable('account_balances')
        .set((eb) => ({ balance: eb('balance', '-', e.data.amount.value) }))
        .where('account_id', '=', e.data.accountId)
        .execute();
    },
    AccountClosed: async (e, { tx }: Ctx) => {
      await tx
        .withSchema(readModelSchema)
        .updateTable('account_balances')
        .set({ status: 'closed' })
        .where('account_id', '=', e.data.accountId)
        .execute();
    },
    // The holder was forgotten (their subject is the account id): erase the copy of their name.
    SubjectForgotten: async (e, { tx }: Ctx) => {
      await tx
        .withSchema(readModelSchema)
        .updateTable('account_balances')
        .set({ owner: FORGOTTEN_OWNER })
        .where('account_id', '=', e.data.subject)
        .execute();
    },
  },
  reset: async ({ tx }: Ctx) => {
    await tx.withSchema(readModelSchema).deleteFrom('account_balances').execute();
  },
});

/** Reads the balances table, ordered by account id. */
export async function queryBalances(db: Kysely<any>) {
  const rows = await (db as Kysely<ReadModel>)
    .withSchema(readModelSchema)
    .selectFrom('account_balances')
    .selectAll()
    .orderBy('account_id')
    .execute();
  return rows.map((r) => ({
    accountId: r.account_id,
    owner: r.owner,
    currency: r.currency,
    balance: Number(r.balance),
    overdraftLimit: Number(r.overdraft_limit),
    status: r.status,
  }));
}
// #endregion balances
