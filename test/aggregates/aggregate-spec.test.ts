import { defineEvent, EventValidationFailed, MissingApplyHandler, UpcasterRegistry } from '@annals/core';
import { AggregateSpec } from '@annals/testing';
import { describe, expect, it } from 'vitest';
import {
  AccountClosed,
  AccountIsClosed,
  AccountOpened,
  BankAccount,
  MoneyDeposited,
  MoneyWithdrawn,
  OverdraftLimitExceeded,
} from '../fixtures/bank-account.js';

const opened = AccountOpened.create({ accountId: 'acc-1', owner: 'Ada', overdraftLimit: 50 });

describe('AggregateSpec', () => {
  // #region aggregate-spec
  const account = AggregateSpec.for(BankAccount, { id: 'acc-1' });

  it('withdraws within the overdraft limit', async () => {
    await account
      .given([opened, MoneyDeposited.create({ accountId: 'acc-1', amount: 20 })])
      .when((a) => a.withdraw(60))
      .then([MoneyWithdrawn.create({ accountId: 'acc-1', amount: 60 })]);
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
    const { aggregate } = await account.when((a) => a.open('Ada', 50)).then([opened]);
    expect(aggregate.opened).toBe(true);
  });

  it('then() fails when the raised events differ', async () => {
    await expect(
      account
        .given([opened])
        .when((a) => a.deposit(5))
        .then([MoneyDeposited.create({ accountId: 'acc-1', amount: 6 })]),
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
        .then([MoneyDeposited.create({ accountId: 'acc-1', amount: 5 })]),
    ).rejects.toThrow(
      'AggregateSpec(BankAccount): expected when() to raise 1 event(s), but it threw AccountIsClosed: Account acc-1 is closed.',
    );
  });

  it('thenThrows() fails for another error, for no error, and returns the error', async () => {
    await expect(
      account
        .given([opened])
        .when((a) => a.deposit(5))
        .thenThrows(AccountIsClosed),
    ).rejects.toThrow('expected when() to throw AccountIsClosed, but it raised MoneyDeposited.');
    await expect(
      account
        .given([opened])
        .when((a) => a.withdraw(99))
        .thenThrows(AccountIsClosed),
    ).rejects.toThrow('expected when() to throw AccountIsClosed, but it threw OverdraftLimitExceeded');
    const error = await account
      .given([opened])
      .when((a) => a.withdraw(99))
      .thenThrows(OverdraftLimitExceeded);
    expect(error.message).toContain('exceeds its overdraft limit of 50');
    // invalid event data is refused by raise with EventValidationFailed
    await account
      .given([opened])
      .when((a) => a.deposit(0))
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

    const Deposited2 = defineEvent('MoneyDeposited', { version: 2, schema: MoneyDeposited.schema });
    const upcasters = new UpcasterRegistry().register({
      type: 'MoneyDeposited',
      from: 1,
      to: 2,
      up: (v1: { accountId: string; cents: number }) => ({ accountId: v1.accountId, amount: v1.cents }),
    });
    const { aggregate } = await AggregateSpec.for(BankAccount, {
      id: 'acc-1',
      events: [AccountOpened, Deposited2, MoneyWithdrawn, AccountClosed],
      upcasters,
    })
      .given([opened, { type: 'MoneyDeposited', schemaVersion: 1, data: { accountId: 'acc-1', cents: 30 } }])
      .when((a) => a.withdraw(80))
      .then([MoneyWithdrawn.create({ accountId: 'acc-1', amount: 80 })]);
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
