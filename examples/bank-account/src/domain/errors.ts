import { money } from './money.js';

// #region errors
/** Base class of the bank's domain errors: one class per rule, each with a stable `code`. */
export class BankError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class AccountAlreadyOpen extends BankError {
  constructor(id: string) {
    super('ACCOUNT_ALREADY_OPEN', `Account ${id} is already open.`);
  }
}

export class AccountNotOpen extends BankError {
  constructor(id: string) {
    super('ACCOUNT_NOT_OPEN', `Account ${id} has not been opened.`);
  }
}

export class AccountClosedError extends BankError {
  constructor(id: string) {
    super('ACCOUNT_CLOSED', `Account ${id} is closed.`);
  }
}

export class CurrencyMismatch extends BankError {
  constructor(id: string, expected: string, found: string) {
    super('CURRENCY_MISMATCH', `Account ${id} holds ${expected}, found an amount in ${found}.`);
  }
}

export class OverdraftLimitExceeded extends BankError {
  constructor(id: string, balance: number, amount: number, limit: number) {
    super(
      'OVERDRAFT_LIMIT_EXCEEDED',
      `Withdrawing ${money(amount)} from account ${id} (balance ${money(balance)}) would exceed its overdraft limit of ${money(limit)}.`,
    );
  }
}

export class BalanceNotZero extends BankError {
  constructor(id: string, balance: number) {
    super('BALANCE_NOT_ZERO', `Account ${id} cannot be closed with a balance of ${money(balance)}.`);
  }
}
// #endregion errors

/** A customer's transfers of one day, over all their accounts, would pass the daily limit. */
export class DailyTransferLimitExceeded extends BankError {
  constructor(customer: string, usedToday: number, amount: number, limit: number) {
    super(
      'DAILY_TRANSFER_LIMIT_EXCEEDED',
      `Customer ${customer} already transferred ${money(usedToday)} today; ${money(amount)} more would pass the daily limit of ${money(limit)}.`,
    );
  }
}
