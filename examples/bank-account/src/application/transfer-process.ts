import { type CommandBus, defineProjection, type Repository } from '@annals/core';
import { BankError } from '../domain/errors.js';
import { TransferDebited, TransferFailed, TransferStarted } from '../domain/events.js';
import type { Transfer } from '../domain/transfer.js';
import { AdvanceTransfer, Deposit, Withdraw } from './commands.js';

// #region process
/**
 * The transfer process manager. It reacts to the transfer's events with commands:
 * started -> debit the source; debited -> credit the target; failed after the debit -> refund the
 * source. Every step is idempotent (the accounts remember the transfer ids they booked and the
 * transfer records each step once), so an event redelivered after a crash books nothing twice.
 */
export function transferProcess(bus: CommandBus, transfers: Repository<Transfer>) {
  /** Runs a step; a domain rule that refuses it becomes the transfer's failure reason. */
  async function attempt(step: () => Promise<unknown>): Promise<string | undefined> {
    try {
      await step();
      return undefined;
    } catch (error) {
      if (error instanceof BankError) return error.message;
      throw error; // infrastructure trouble: the runner retries the event
    }
  }

  return defineProjection({
    name: 'transfer-process',
    events: [TransferStarted, TransferDebited, TransferFailed],
    handlers: {
      TransferStarted: async ({ data: t }) => {
        const refused = await attempt(() =>
          bus.execute(Withdraw, { accountId: t.from, amount: t.amount.value, transferId: t.transferId }),
        );
        await bus.execute(
          AdvanceTransfer,
          refused === undefined
            ? { transferId: t.transferId, step: 'debited' }
            : { transferId: t.transferId, step: 'failed', reason: refused },
        );
      },
      TransferDebited: async ({ data }) => {
        const t = await transfers.load(data.transferId);
        const refused = await attempt(() =>
          bus.execute(Deposit, { accountId: t.to, amount: t.amount, transferId: t.id }),
        );
        await bus.execute(
          AdvanceTransfer,
          refused === undefined
            ? { transferId: t.id, step: 'completed' }
            : { transferId: t.id, step: 'failed', reason: refused },
        );
      },
      TransferFailed: async ({ data }) => {
        const t = await transfers.load(data.transferId);
        if (!t.debited) return; // nothing left the source account
        await bus.execute(Deposit, { accountId: t.from, amount: t.amount, transferId: `${t.id}:refund` });
        await bus.execute(AdvanceTransfer, { transferId: t.id, step: 'compensated' });
      },
    },
  });
}
// #endregion process
