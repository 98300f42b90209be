import { defineProcessManager, hasErrorCode, type ReactionContext, type RejectionInfo } from '@annals/core';
import { BankError } from '../domain/errors.js';
import {
  TransferCompensated,
  TransferCompleted,
  TransferDebited,
  TransferExpired,
  TransferFailed,
  TransferStarted,
} from '../domain/events.js';
import { AdvanceTransfer, Deposit, Withdraw } from './commands.js';

/** How long a transfer may wait for its credit, and how often the credit is tried again meanwhile. */
export interface TransferTimeouts {
  /** After this long without a credit, the transfer expires and the source is refunded. */
  readonly creditTimeoutMs: number;
  /** A credit refused because the target account is not open yet is tried again after this long. */
  readonly creditRetryMs: number;
}

/** What the transfer process knows of one transfer: what its events told it. */
export interface TransferProgress {
  readonly step: 'new' | 'started' | 'debited' | 'completed' | 'failed' | 'expired' | 'compensated';
  readonly from: string;
  readonly to: string;
  readonly amount: number;
  readonly debited: boolean;
}

/** A credit to an account that was never opened (not found) or is not open yet: worth a retry. */
const notOpenYet = (error: RejectionInfo) =>
  error.code === 'ACCOUNT_NOT_OPEN' || error.code === 'AGGREGATE_NOT_FOUND';

// #region process
/**
 * The transfer process manager, one instance per transfer id. Started: debit the source, record the
 * debit, and set the credit deadline. Debited: credit the target and record the completion. A
 * credit refused because the target is not open yet is retried on a timer; refused otherwise, the
 * transfer fails. At the deadline a transfer still debited expires. Failed after the debit, or
 * expired: refund the source. Every command carries an id derived from the input, and its outcome
 * is recorded before the next is sent, so a crash at any point books nothing twice.
 */
export function transferProcess(timeouts: TransferTimeouts) {
  const credit = (t: TransferProgress, transferId: string, ctx: ReactionContext) => {
    ctx.send(Deposit, { accountId: t.to, amount: t.amount, transferId });
    ctx.send(AdvanceTransfer, { transferId, step: 'completed' });
  };
  const refund = (t: TransferProgress, transferId: string, ctx: ReactionContext) => {
    if (!t.debited) return ctx.complete(); // nothing left the source account
    ctx.send(Deposit, { accountId: t.from, amount: t.amount, transferId: `${transferId}:refund` });
    ctx.send(AdvanceTransfer, { transferId, step: 'compensated' });
  };

  return defineProcessManager({
    name: 'transfer-process',
    events: [
      TransferStarted,
      TransferDebited,
      TransferCompleted,
      TransferFailed,
      TransferExpired,
      TransferCompensated,
    ],
    correlate: (e) => e.data.transferId,
    initialState: (): TransferProgress => ({ step: 'new', from: '', to: '', amount: 0, debited: false }),
    evolve: {
      TransferStarted: (t, e): TransferProgress => ({
        ...t,
        step: 'started',
        from: e.data.from,
        to: e.data.to,
        amount: e.data.amount.value,
      }),
      TransferDebited: (t): TransferProgress => ({ ...t, step: 'debited', debited: true }),
      TransferCompleted: (t): TransferProgress => ({ ...t, step: 'completed' }),
      TransferFailed: (t): TransferProgress => ({ ...t, step: 'failed' }),
      TransferExpired: (t): TransferProgress => ({ ...t, step: 'expired' }),
      TransferCompensated: (t): TransferProgress => ({ ...t, step: 'compensated' }),
    },
    react: {
      TransferStarted: (t, e, ctx) => {
        ctx.send(Withdraw, { accountId: t.from, amount: t.amount, transferId: e.data.transferId });
        ctx.send(AdvanceTransfer, { transferId: e.data.transferId, step: 'debited' });
        ctx.schedule({ after: timeouts.creditTimeoutMs }, { type: 'CreditDeadline' });
      },
      TransferDebited: (t, e, ctx) => credit(t, e.data.transferId, ctx),
      TransferFailed: (t, e, ctx) => refund(t, e.data.transferId, ctx),
      TransferExpired: (t, e, ctx) => refund(t, e.data.transferId, ctx),
      TransferCompleted: (_t, _e, ctx) => ctx.complete(),
      TransferCompensated: (_t, _e, ctx) => ctx.complete(),
    },
    timers: {
      RetryCredit: (t, _m, ctx) => {
        if (t.step === 'debited') credit(t, ctx.key, ctx);
      },
      CreditDeadline: (t, _m, ctx) => {
        if (t.step !== 'debited') return;
        ctx.cancel('RetryCredit');
        ctx.send(AdvanceTransfer, { transferId: ctx.key, step: 'expired' });
      },
    },
    // A rule of the bank refused a step: record the failure (or, for a target not open yet, retry).
    compensate: (_t, failure, ctx) => {
      if (failure.commandType === Deposit.type && notOpenYet(failure.error)) {
        ctx.schedule({ after: timeouts.creditRetryMs }, { type: 'RetryCredit' });
      } else {
        ctx.send(AdvanceTransfer, { transferId: ctx.key, step: 'failed', reason: failure.error.message });
      }
    },
    isRejection: (error) => error instanceof BankError || hasErrorCode(error, 'AGGREGATE_NOT_FOUND'),
  });
}
// #endregion process
