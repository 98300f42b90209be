import 'reflect-metadata';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DecisionSpec } from '@annals/testing';
import { describe, expect, it } from 'vitest';
import { openBank } from '../../examples/bank-account/src/app.js';
import { OpenAccount, StartTransfer } from '../../examples/bank-account/src/application/commands.js';
import {
  checkDailyTransferLimit,
  DAILY_TRANSFER_LIMIT,
} from '../../examples/bank-account/src/application/daily-transfer-limit.js';
import {
  AccountOpened,
  bankEvents,
  DailyTransferLimitExceeded,
  TransferStarted,
  upcasters,
} from '../../examples/bank-account/src/domain/index.js';

const today = () => new Date().toISOString().slice(0, 10);
const eur = (value: number) => ({ value, currency: 'EUR' });

describe('the daily transfer limit (a decision model over all of a customer’s accounts)', () => {
  it('through the bus: transfers from two accounts of one customer share the limit, another customer has their own', async () => {
    const bank = await openBank({
      store: 'memory',
      dataDir: join(tmpdir(), 'unused'),
      databaseUrl: undefined,
      reset: false,
    });
    try {
      await bank.bus.execute(OpenAccount, { accountId: 'a1', customerId: 'ada', owner: 'Ada' });
      await bank.bus.execute(OpenAccount, { accountId: 'a2', customerId: 'ada', owner: 'Ada' });
      await bank.bus.execute(OpenAccount, { accountId: 'b1', customerId: 'bea', owner: 'Bea' });
      const half = DAILY_TRANSFER_LIMIT / 2;
      await bank.bus.execute(StartTransfer, { transferId: 't1', from: 'a1', to: 'b1', amount: half });
      await bank.bus.execute(StartTransfer, { transferId: 't2', from: 'a2', to: 'b1', amount: half });
      await expect(
        bank.bus.execute(StartTransfer, { transferId: 't3', from: 'a1', to: 'b1', amount: 1 }),
      ).rejects.toBeInstanceOf(DailyTransferLimitExceeded);
      await bank.bus.execute(StartTransfer, {
        transferId: 't4',
        from: 'b1',
        to: 'a1',
        amount: DAILY_TRANSFER_LIMIT,
      });
    } finally {
      await bank.close();
    }
  });

  const spec = DecisionSpec.for({ events: bankEvents, upcasters });
  const decide =
    (amount: number, transferId = 't-new') =>
    (store: Parameters<typeof checkDailyTransferLimit>[0]) =>
      checkDailyTransferLimit(store, { customer: 'ada', from: 'a1', amount, transferId, day: today() }).then(
        (condition) =>
          store.append(
            `transfer-${transferId}`,
            [TransferStarted.create({ transferId, from: 'a1', to: 'x', amount: eur(amount) })],
            {
              condition,
            },
          ),
      );
  const given = [
    AccountOpened.create({
      accountId: 'a1',
      customerId: 'ada',
      owner: 'Ada',
      currency: 'EUR',
      overdraftLimit: 0,
    }),
    AccountOpened.create({
      accountId: 'a2',
      customerId: 'ada',
      owner: 'Ada',
      currency: 'EUR',
      overdraftLimit: 0,
    }),
    TransferStarted.create({
      transferId: 'old',
      from: 'a2',
      to: 'x',
      amount: eur(DAILY_TRANSFER_LIMIT - 100),
    }),
  ];

  it('given/when/then: counts the other account, refuses past the limit, and a transfer run again does not count itself', async () => {
    await spec
      .given(given)
      .when(decide(100))
      .then([TransferStarted.create({ transferId: 't-new', from: 'a1', to: 'x', amount: eur(100) })]);
    await spec.given(given).when(decide(101)).thenThrows(DailyTransferLimitExceeded);
    await spec
      .given([
        ...given.slice(0, 2),
        TransferStarted.create({ transferId: 'old', from: 'a2', to: 'x', amount: eur(DAILY_TRANSFER_LIMIT) }),
      ])
      .when(decide(DAILY_TRANSFER_LIMIT, 'old'))
      .then([
        TransferStarted.create({ transferId: 'old', from: 'a1', to: 'x', amount: eur(DAILY_TRANSFER_LIMIT) }),
      ]);
  });

  it('the condition covers a transfer from another account and a newly opened account', async () => {
    await spec
      .given(given)
      .when(decide(1))
      .thenConflictsWith([
        TransferStarted.create({ transferId: 'other', from: 'a2', to: 'y', amount: eur(1) }),
      ]);
    await spec
      .given(given)
      .when(decide(1))
      .thenConflictsWith([
        AccountOpened.create({
          accountId: 'a3',
          customerId: 'ada',
          owner: 'Ada',
          currency: 'EUR',
          overdraftLimit: 0,
        }),
      ]);
  });
});
