import { CommandValidationFailed, InMemoryIdempotencyStore, idempotency } from '@annals/core';
import { CommandSpec } from '@annals/testing';
import { container } from 'tsyringe';
import { describe, expect, it } from 'vitest';
import {
  bankHandlers,
  Deposit,
  DepositHandler,
  OpenAccount,
  Withdraw,
  WithdrawHandler,
} from '../../examples/bank-account/src/application/commands.js';
import {
  AccountOpened,
  BankAccount,
  bankEvents,
  MoneyDeposited,
  MoneyWithdrawn,
  OverdraftLimitExceeded,
} from '../../examples/bank-account/src/domain/index.js';

const opened = AccountOpened.create({ accountId: 'acc-1', owner: 'Ada', currency: 'EUR', overdraftLimit: 0 });
/** An amount in euro cents, as the bank's money events carry it. */
const eur = (value: number) => ({ value, currency: 'EUR' });

describe('CommandSpec', () => {
  // #region command-spec
  const bank = CommandSpec.for({ events: bankEvents, container, handlers: [...bankHandlers] });

  it('deposits through the bus', async () => {
    const deposited = MoneyDeposited.create({ accountId: 'acc-1', amount: eur(100) });
    const { result, events } = await bank
      .given(BankAccount, 'acc-1', [opened])
      .when(Deposit, { accountId: 'acc-1', amount: 100 }, { commandId: 'cmd-1', correlationId: 'req-1' })
      .then([{ streamId: 'BankAccount-acc-1', ...deposited }]);
    expect(result).toEqual({ balance: 100 });
    expect(events[0]!.metadata).toEqual({ correlationId: 'req-1', causationId: 'cmd-1' });
  });

  it('refuses an overdraft and appends nothing', async () => {
    await bank
      .given(BankAccount, 'acc-1', [opened])
      .when(Withdraw, { accountId: 'acc-1', amount: 1 })
      .thenThrows(OverdraftLimitExceeded);
  });
  // #endregion command-spec

  it('works with plain constructors built from the scenario environment', async () => {
    const spec = CommandSpec.for({
      events: bankEvents,
      handlers: ({ repositories }) => [
        new DepositHandler(repositories.get(BankAccount)),
        new WithdrawHandler(repositories.get(BankAccount)),
      ],
    });
    await spec
      .given('BankAccount-acc-1', [opened, MoneyDeposited.create({ accountId: 'acc-1', amount: eur(5) })])
      .when(Withdraw, { accountId: 'acc-1', amount: 5 })
      .then([MoneyWithdrawn.create({ accountId: 'acc-1', amount: eur(5) })]);
  });

  it('each scenario gets a fresh store', async () => {
    await bank.when(OpenAccount, { accountId: 'acc-1', owner: 'Ada' }).then([opened]);
    await bank.when(OpenAccount, { accountId: 'acc-1', owner: 'Ada' }).then([opened]);
  });

  it('thenNothingHappened: a command that already ran (idempotency) appends nothing, returns the first result', async () => {
    const records = new InMemoryIdempotencyStore();
    await records.set('dep-1', {
      commandType: 'Deposit',
      payload: JSON.stringify({ accountId: 'acc-1', amount: 1 }),
      result: { balance: 1 },
    });
    const spec = CommandSpec.for({
      events: bankEvents,
      container,
      handlers: [...bankHandlers],
      middleware: [idempotency({ store: records })],
    });
    const result = await spec
      .given(BankAccount, 'acc-1', [opened, MoneyDeposited.create({ accountId: 'acc-1', amount: eur(1) })])
      .when(Deposit, { accountId: 'acc-1', amount: 1 }, { commandId: 'dep-1' })
      .thenNothingHappened();
    expect(result).toEqual({ balance: 1 });
  });

  it('fails when expectations are wrong', async () => {
    await expect(
      bank.given(BankAccount, 'acc-1', [opened]).when(Deposit, { accountId: 'acc-1', amount: 1 }).then([]),
    ).rejects.toThrow();
    await expect(
      bank
        .given(BankAccount, 'acc-1', [opened])
        .when(Deposit, { accountId: 'acc-1', amount: 1 })
        .then([
          { streamId: 'BankAccount-acc-2', ...MoneyDeposited.create({ accountId: 'acc-1', amount: eur(1) }) },
        ]),
    ).rejects.toThrow();
    await expect(
      bank
        .given(BankAccount, 'acc-1', [opened])
        .when(Deposit, { accountId: 'acc-1', amount: 1 })
        .thenNothingHappened(),
    ).rejects.toThrow(
      'CommandSpec(Deposit): expected nothing to happen, but the command appended MoneyDeposited.',
    );
    await expect(
      bank
        .given(BankAccount, 'acc-1', [opened])
        .when(Deposit, { accountId: 'acc-1', amount: 1 })
        .thenThrows(Error),
    ).rejects.toThrow('expected the command to throw Error, but it succeeded and appended 1 event(s).');
    await expect(
      bank
        .when(Deposit, { accountId: 'acc-1', amount: 1 })
        .then([MoneyDeposited.create({ accountId: 'acc-1', amount: eur(1) })]),
    ).rejects.toThrow(
      'CommandSpec(Deposit): expected the command to append 1 event(s), but it threw AggregateNotFound: BankAccount acc-1 was not found',
    );
  });

  it('validation errors are thrown before any handler runs', async () => {
    const error = await bank
      .given(BankAccount, 'acc-1', [opened])
      .when(Deposit, { accountId: 'acc-1', amount: 0 })
      .thenThrows(CommandValidationFailed);
    expect(error.issues.map((i) => i.path)).toEqual([['amount']]);
  });
});
