import { EventValidationFailed, MissingApplyHandler } from '@annals/core';
import { AggregateSpec } from '@annals/testing';
import { describe, expect, it } from 'vitest';
import {
  AccountClosed,
  AccountClosedError,
  AccountOpened,
  BankAccount,
  bankEvents,
  MoneyDeposited,
  MoneyWithdrawn,
  OverdraftLimitExceeded,
  upcasters,
} from '../../examples/bank-account/src/domain/index.js';

const opened = AccountOpened.create({
  accountId: 'acc-1',
  owner: 'Ada',
  currency: 'EUR',
  overdraftLimit: 50,
});
/** An amount in euro cents, as the bank's money events carry it. */
const eur = (value: number) => ({ value, currency: 'EUR' });

describe('AggregateSpec', () => {
  // #region aggregate-spec
  const account = AggregateSpec.for(BankAccount, { id: 'acc-1' });

  it('withdraws within the overdraft limit', async () => {
    await account
      .given([opened, MoneyDeposited.create({ accountId: 'acc-1', amount: { value: 20, currency: 'EUR' } })])
      .when((a) => a.withdraw(60))
      .then([MoneyWithdrawn.create({ accountId: 'acc-1', amount: { value: 60, currency: 'EUR' } })]);
  });

  it('refuses a withdrawal beyond the overdraft limit', async () => {
    await account
      .given([opened])
      .when((a) => a.withdraw(51))
      .thenThrows(OverdraftLimitExceeded);
  });

  it('does nothing for a method that only reads', async () => {
    await account
      .given([opened])
      .when((a) => a.balance)
      .thenNothingHappened();
  });
  // #endregion aggregate-spec

  it('starts from a new aggregate without given events', async () => {
    const { aggregate } = await account.when((a) => a.open('Ada', 'EUR', 50)).then([opened]);
    expect(aggregate.opened).toBe(true);
  });

  it('then() fails when the raised events differ', async () => {
    await expect(
      account
        .given([opened])
        .when((a) => a.deposit(5))
        .then([MoneyDeposited.create({ accountId: 'acc-1', amount: eur(6) })]),
    ).rejects.toThrow(/expected/i);
    await expect(
      account
        .given([opened])
        .when((a) => a.deposit(5))
        .then([]),
    ).rejects.toThrow();
  });

  it('then() fails with the error when when() throws', async () => {
    await expect(
      account
        .given([opened, AccountClosed.create({ accountId: 'acc-1' })])
        .when((a) => a.deposit(5))
        .then([MoneyDeposited.create({ accountId: 'acc-1', amount: eur(5) })]),
    ).rejects.toThrow(
      'AggregateSpec(BankAccount): expected when() to raise 1 event(s), but it threw AccountClosedError: Account acc-1 is closed.',
    );
  });

  it('thenThrows() fails for another error, for no error, and returns the error', async () => {
    await expect(
      account
        .given([opened])
        .when((a) => a.deposit(5))
        .thenThrows(AccountClosedError),
    ).rejects.toThrow('expected when() to throw AccountClosedError, but it raised MoneyDeposited.');
    await expect(
      account
        .given([opened])
        .when((a) => a.withdraw(99))
        .thenThrows(AccountClosedError),
    ).rejects.toThrow('expected when() to throw AccountClosedError, but it threw OverdraftLimitExceeded');
    const error = await account
      .given([opened])
      .when((a) => a.withdraw(99))
      .thenThrows(OverdraftLimitExceeded);
    expect(error.message).toContain('would exceed its overdraft limit of €0.50');
    // invalid event data is refused by raise with EventValidationFailed (amounts are whole cents)
    await account
      .given([opened])
      .when((a) => a.deposit(0.5))
      .thenThrows(EventValidationFailed);
  });

  it('thenNothingHappened() fails when an event was raised', async () => {
    await expect(
      account
        .given([opened])
        .when((a) => a.deposit(1))
        .thenNothingHappened(),
    ).rejects.toThrow('expected nothing to happen, but when() raised MoneyDeposited.');
  });

  it('given events go through the real load path: missing @Apply and upcasting', async () => {
    // AccountFrozen has no definition: only a store created with strict: false takes it.
    await expect(
      AggregateSpec.for(BankAccount, { id: 'acc-1', strict: false })
        .given([opened, { type: 'AccountFrozen', data: {} }])
        .when(() => undefined)
        .thenNothingHappened(),
    ).rejects.toBeInstanceOf(MissingApplyHandler);

    // The bank's MoneyDeposited is at version 2; version 1 stored a bare number of euro cents.
    const { aggregate } = await AggregateSpec.for(BankAccount, { id: 'acc-1', events: bankEvents, upcasters })
      .given([opened, { type: 'MoneyDeposited', schemaVersion: 1, data: { accountId: 'acc-1', amount: 30 } }])
      .when((a) => a.withdraw(80))
      .then([MoneyWithdrawn.create({ accountId: 'acc-1', amount: eur(80) })]);
    expect(aggregate.balance).toBe(-50);
  });

  it('awaiting a scenario without an assertion is refused with an explanation', async () => {
    const scenario = account.given([opened]).when((a) => a.deposit(1));
    await expect(
      (async () => {
        await (scenario as unknown as Promise<unknown>);
      })(),
    ).rejects.toThrow('Did you await the scenario without calling then([...])');
  });
});
