import { type AppendCondition, buildDecisionModel, decisionProjection, type EventStore } from '@annals/core';
import { DailyTransferLimitExceeded } from '../domain/errors.js';

// A rule that crosses aggregates, written as a decision model: a customer may transfer at most
// DAILY_TRANSFER_LIMIT a day (UTC), summed over all their accounts. Each account is its own
// aggregate, so no aggregate can hold this rule; the decision reads exactly the events it depends on
// (the customer's accounts, and the transfers started from them) and appends only if none changed.

/** The most a customer may transfer in one day (UTC), in cents, over all their accounts. */
export const DAILY_TRANSFER_LIMIT = 5_000_00;

// #region decision
/** The accounts a customer opened (AccountOpened carries `customer:<customer id>`). */
const accountsOf = (customer: string) =>
  decisionProjection<readonly string[]>({
    query: { items: [{ types: ['AccountOpened'], tags: [`customer:${customer}`] }] },
    initialState: [],
    apply: (accounts, event) => [...accounts, (event.data as { accountId: string }).accountId],
  });

/** What was transferred on `day` from these accounts, leaving out `transferId` (a command run again). */
const transferredOn = (accounts: readonly string[], day: string, transferId: string) =>
  decisionProjection({
    query: {
      items: accounts.map((account) => ({ types: ['TransferStarted'], tags: [`account:${account}`] })),
    },
    initialState: 0,
    apply: (sum, event) => {
      const data = event.data as { transferId: string; amount: { value: number } };
      const sameDay = event.recordedAt.toISOString().slice(0, 10) === day;
      return sameDay && data.transferId !== transferId ? sum + data.amount.value : sum;
    },
  });

/**
 * Checks the daily limit for a transfer of `amount` from one of `customer`'s accounts and returns
 * the append condition protecting the decision: it fails if the customer opens an account or any of
 * their accounts starts a transfer before the transfer is saved.
 */
export async function checkDailyTransferLimit(
  store: EventStore,
  input: { customer: string; from: string; amount: number; transferId: string; day: string },
): Promise<AppendCondition> {
  // The accounts decide which transfers to read; read again until both reads agree on them.
  let accounts = (await buildDecisionModel(store, { accounts: accountsOf(input.customer) })).state.accounts;
  for (;;) {
    const known = accounts.includes(input.from) ? accounts : [...accounts, input.from];
    const { state, condition } = await buildDecisionModel(store, {
      accounts: accountsOf(input.customer),
      used: transferredOn(known, input.day, input.transferId),
    });
    if (state.accounts.some((account) => !known.includes(account))) {
      accounts = state.accounts;
      continue;
    }
    if (state.used + input.amount > DAILY_TRANSFER_LIMIT) {
      throw new DailyTransferLimitExceeded(input.customer, state.used, input.amount, DAILY_TRANSFER_LIMIT);
    }
    return condition;
  }
}
// #endregion decision
