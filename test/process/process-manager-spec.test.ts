import 'reflect-metadata';
import { ProcessManagerSpec } from '@annals/testing';
import { describe, expect, it } from 'vitest';
import { transferProcess } from '../../examples/bank-account/src/application/transfer-process.js';
import {
  AccountClosedError,
  AccountNotOpen,
  bankEvents,
  OverdraftLimitExceeded,
  TransferCompleted,
  TransferDebited,
  TransferStarted,
  upcasters,
} from '../../examples/bank-account/src/domain/index.js';

const start = new Date('2030-01-01T00:00:00.000Z');
const later = (ms: number) => new Date(start.getTime() + ms);
const Transfers = transferProcess({ creditTimeoutMs: 60_000, creditRetryMs: 7_000 });
const spec = (reject?: (command: { type: string; data: unknown }) => Error | undefined) =>
  ProcessManagerSpec.for(Transfers, { events: bankEvents, upcasters, start, ...(reject ? { reject } : {}) });

const stream = 'Transfer-t-1';
const started = {
  streamId: stream,
  ...TransferStarted.create({
    transferId: 't-1',
    from: 'alice',
    to: 'bob',
    amount: { value: 500, currency: 'EUR' },
  }),
};
const debited = { streamId: stream, ...TransferDebited.create({ transferId: 't-1' }) };
const completed = { streamId: stream, ...TransferCompleted.create({ transferId: 't-1' }) };

describe('ProcessManagerSpec on the bank transfer process', () => {
  it('a started transfer debits the source, records the debit and sets the credit deadline', async () => {
    // #region spec
    await spec()
      .given([])
      .when([started])
      .then({
        sent: [
          { type: 'Withdraw', data: { accountId: 'alice', amount: 500, transferId: 't-1' } },
          { type: 'AdvanceTransfer', data: { transferId: 't-1', step: 'debited' } },
        ],
        scheduled: [
          { key: 't-1', name: 'CreditDeadline', dueAt: later(60_000), message: { type: 'CreditDeadline' } },
        ],
        cancelled: [],
        completed: [],
      });
    // #endregion spec
  });

  it('a debit refused by the bank records the failure instead (the compensation)', async () => {
    await spec((c) => (c.type === 'Withdraw' ? new OverdraftLimitExceeded('alice', 0, 500, 0) : undefined))
      .given([])
      .when([started])
      .then({
        sent: [
          { type: 'Withdraw', data: { accountId: 'alice', amount: 500, transferId: 't-1' } },
          {
            type: 'AdvanceTransfer',
            data: { transferId: 't-1', step: 'failed', reason: expect.stringMatching(/overdraft limit/) },
          },
        ],
      });
  });

  it('a transfer still not credited when its deadline passes expires; not a millisecond before', async () => {
    const notOpen = (c: { type: string }) => (c.type === 'Deposit' ? new AccountNotOpen('bob') : undefined);
    const deposit = { type: 'Deposit', data: { accountId: 'bob', amount: 500, transferId: 't-1' } };
    // Bob's account is not open: the credit is retried every 7 s (at 7, 14, ... 56 s).
    const secondByFirst = (seconds: number) => {
      let scenario = spec(notOpen).given([started, debited]);
      for (let s = 0; s < seconds; s++) scenario = scenario.whenTimePasses(1000);
      return scenario;
    };
    await secondByFirst(59)
      .whenTimePasses(999)
      .then({ sent: Array.from({ length: 8 }, () => deposit), cancelled: [] });
    await secondByFirst(60).then({
      sent: [
        ...Array.from({ length: 8 }, () => deposit),
        { type: 'AdvanceTransfer', data: { transferId: 't-1', step: 'expired' } },
      ],
      cancelled: [{ key: 't-1', name: 'RetryCredit' }],
    });
  });

  it('a credit refused because the account is closed fails the transfer (which then refunds)', async () => {
    await spec((c) => (c.type === 'Deposit' ? new AccountClosedError('bob') : undefined))
      .given([started])
      .when([debited])
      .then({
        sent: [
          { type: 'Deposit', data: { accountId: 'bob', amount: 500, transferId: 't-1' } },
          {
            type: 'AdvanceTransfer',
            data: { transferId: 't-1', step: 'failed', reason: 'Account bob is closed.' },
          },
        ],
        scheduled: [],
      });
  });

  it('a completed transfer ends its process: the deadline is cancelled and never fires', async () => {
    await spec()
      .given([started, debited])
      .when([completed])
      .whenTimePasses(120_000)
      .then({ sent: [], cancelled: [{ key: 't-1', name: 'CreditDeadline' }], completed: ['t-1'] });
  });

  it('says what differs when the expectation is wrong', async () => {
    const error = await spec()
      .given([])
      .when([started])
      .then({ sent: [] })
      .catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(Error);
    expect(String((error as Error).message)).toContain('the commands sent');
  });

  it('refuses an awaited scenario without an assertion', () => {
    expect(() =>
      (spec().given([]) as unknown as { then(a: () => void, b: () => void): void }).then(
        () => {},
        () => {},
      ),
    ).toThrow(/then\(\) expects/);
  });
});
