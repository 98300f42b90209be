import { Aggregate, AggregateRoot, Apply } from '@annals/core';
import {
  AccountAlreadyOpen,
  AccountClosedError,
  AccountNotOpen,
  BalanceNotZero,
  CurrencyMismatch,
  OverdraftLimitExceeded,
} from './errors.js';
import {
  AccountClosed,
  AccountOpened,
  customerOf,
  type Deposited,
  MoneyDeposited,
  MoneyWithdrawn,
  type Opened,
  ownerName,
  type Withdrawn,
} from './events.js';

// #region aggregate
/** A bank account: open, deposit, withdraw within an overdraft limit, close at a zero balance. */
// Snapshot version 2: the state gained customerId; a version-1 snapshot (without it) is not read,
// the account is replayed from its events and snapshotted again.
@Aggregate('BankAccount', { snapshotVersion: 2 })
export class BankAccount extends AggregateRoot {
  owner = '';
  /** The customer holding the account (the daily transfer limit spans their accounts). */
  customerId = '';
  currency = 'EUR';
  balance = 0;
  overdraftLimit = 0;
  opened = false;
  closed = false;
  /** Transfers already booked here, so a retried transfer step books nothing twice. */
  transfers: string[] = [];

  open(owner: string, currency: string, overdraftLimit: number, customerId?: string) {
    if (this.opened) throw new AccountAlreadyOpen(this.id);
    this.raise(AccountOpened, { accountId: this.id, customerId, owner, currency, overdraftLimit });
  }

  deposit(value: number, transferId?: string) {
    this.assertActive();
    if (transferId !== undefined && this.transfers.includes(`in:${transferId}`)) return;
    this.raise(MoneyDeposited, {
      accountId: this.id,
      amount: { value, currency: this.currency },
      transferId,
    });
  }

  withdraw(value: number, transferId?: string) {
    this.assertActive();
    if (transferId !== undefined && this.transfers.includes(`out:${transferId}`)) return;
    if (this.balance - value < -this.overdraftLimit) {
      throw new OverdraftLimitExceeded(this.id, this.balance, value, this.overdraftLimit);
    }
    this.raise(MoneyWithdrawn, {
      accountId: this.id,
      amount: { value, currency: this.currency },
      transferId,
    });
  }

  close() {
    this.assertActive();
    if (this.balance !== 0) throw new BalanceNotZero(this.id, this.balance);
    this.raise(AccountClosed, { accountId: this.id });
  }

  private assertActive() {
    if (!this.opened) throw new AccountNotOpen(this.id);
    if (this.closed) throw new AccountClosedError(this.id);
  }

  @Apply(AccountOpened)
  protected onOpened(e: Opened) {
    Object.assign(this, {
      opened: true,
      owner: ownerName(e.owner),
      customerId: customerOf(e),
      currency: e.currency,
      overdraftLimit: e.overdraftLimit,
    });
  }

  @Apply(MoneyDeposited)
  protected onDeposited(e: Deposited) {
    if (e.amount.currency !== this.currency)
      throw new CurrencyMismatch(this.id, this.currency, e.amount.currency);
    this.balance += e.amount.value;
    if (e.transferId !== undefined) this.transfers.push(`in:${e.transferId}`);
  }

  @Apply(MoneyWithdrawn)
  protected onWithdrawn(e: Withdrawn) {
    this.balance -= e.amount.value;
    if (e.transferId !== undefined) this.transfers.push(`out:${e.transferId}`);
  }

  @Apply(AccountClosed)
  protected onClosed() {
    this.closed = true;
  }
}
// #endregion aggregate
