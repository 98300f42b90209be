import {
  type CommandData,
  CommandHandler,
  defineCommand,
  type EventStore,
  type Handles,
  type Repository,
} from '@annals/core';
import { AnnalsTokens, InjectRepository } from '@annals/core/tsyringe';
import { inject } from 'tsyringe';
import { z } from 'zod';
import { BankAccount } from '../domain/bank-account.js';
import { Transfer } from '../domain/transfer.js';
import { checkDailyTransferLimit } from './daily-transfer-limit.js';

// #region commands
export const OpenAccount = defineCommand(
  'OpenAccount',
  z.object({
    accountId: z.string().min(1),
    /** The customer holding the account (several accounts may share one); the account id if absent. */
    customerId: z.string().min(1).optional(),
    owner: z.string().min(1),
    currency: z.string().length(3).default('EUR'),
    overdraftLimit: z.number().int().nonnegative().default(0),
  }),
);

export const Deposit = defineCommand(
  'Deposit',
  z.object({
    accountId: z.string().min(1),
    amount: z.number().int().positive(),
    transferId: z.string().optional(),
  }),
).returns<{ balance: number }>();

export const Withdraw = defineCommand(
  'Withdraw',
  z.object({
    accountId: z.string().min(1),
    amount: z.number().int().positive(),
    transferId: z.string().optional(),
  }),
).returns<{ balance: number }>();

export const CloseAccount = defineCommand('CloseAccount', z.object({ accountId: z.string().min(1) }));

export const StartTransfer = defineCommand(
  'StartTransfer',
  z.object({
    transferId: z.string().min(1),
    from: z.string().min(1),
    to: z.string().min(1),
    amount: z.number().int().positive(),
  }),
);
// #endregion commands

/** A step of a transfer, recorded by the transfer process. */
export const AdvanceTransfer = defineCommand(
  'AdvanceTransfer',
  z.discriminatedUnion('step', [
    z.object({ transferId: z.string(), step: z.literal('debited') }),
    z.object({ transferId: z.string(), step: z.literal('completed') }),
    z.object({ transferId: z.string(), step: z.literal('failed'), reason: z.string() }),
    z.object({ transferId: z.string(), step: z.literal('compensated') }),
    z.object({ transferId: z.string(), step: z.literal('expired') }),
  ]),
);

// #region handlers
@CommandHandler(OpenAccount)
export class OpenAccountHandler implements Handles<typeof OpenAccount> {
  constructor(@InjectRepository(BankAccount) private readonly accounts: Repository<BankAccount>) {}

  async execute(cmd: CommandData<typeof OpenAccount>) {
    const account = new BankAccount(cmd.accountId);
    account.open(cmd.owner, cmd.currency, cmd.overdraftLimit, cmd.customerId);
    await this.accounts.save(account);
  }
}

// #region handler
@CommandHandler(Deposit)
export class DepositHandler implements Handles<typeof Deposit> {
  constructor(@InjectRepository(BankAccount) private readonly accounts: Repository<BankAccount>) {}

  async execute(cmd: CommandData<typeof Deposit>) {
    const account = await this.accounts.load(cmd.accountId);
    account.deposit(cmd.amount, cmd.transferId);
    await this.accounts.save(account);
    return { balance: account.balance };
  }
}
// #endregion handler
// #endregion handlers

@CommandHandler(Withdraw)
export class WithdrawHandler implements Handles<typeof Withdraw> {
  constructor(@InjectRepository(BankAccount) private readonly accounts: Repository<BankAccount>) {}

  async execute(cmd: CommandData<typeof Withdraw>) {
    const account = await this.accounts.load(cmd.accountId);
    account.withdraw(cmd.amount, cmd.transferId);
    await this.accounts.save(account);
    return { balance: account.balance };
  }
}

@CommandHandler(CloseAccount)
export class CloseAccountHandler implements Handles<typeof CloseAccount> {
  constructor(@InjectRepository(BankAccount) private readonly accounts: Repository<BankAccount>) {}

  async execute(cmd: CommandData<typeof CloseAccount>) {
    const account = await this.accounts.load(cmd.accountId);
    account.close();
    await this.accounts.save(account);
  }
}

@CommandHandler(StartTransfer)
export class StartTransferHandler implements Handles<typeof StartTransfer> {
  constructor(
    @InjectRepository(Transfer) private readonly transfers: Repository<Transfer>,
    @InjectRepository(BankAccount) private readonly accounts: Repository<BankAccount>,
    @inject(AnnalsTokens.EventStore) private readonly store: EventStore,
  ) {}

  async execute(cmd: CommandData<typeof StartTransfer>) {
    const source = await this.accounts.load(cmd.from);
    const transfer = new Transfer(cmd.transferId);
    transfer.start(cmd.from, cmd.to, cmd.amount, source.currency);
    // The customer's daily limit over all their accounts: a decision model, saved with the aggregate.
    const condition = await checkDailyTransferLimit(this.store, {
      customer: source.customerId,
      from: cmd.from,
      amount: cmd.amount,
      transferId: cmd.transferId,
      day: new Date().toISOString().slice(0, 10),
    });
    await this.transfers.save(transfer, { condition });
  }
}

@CommandHandler(AdvanceTransfer)
export class AdvanceTransferHandler implements Handles<typeof AdvanceTransfer> {
  constructor(@InjectRepository(Transfer) private readonly transfers: Repository<Transfer>) {}

  async execute(cmd: CommandData<typeof AdvanceTransfer>) {
    const transfer = await this.transfers.load(cmd.transferId);
    if (cmd.step === 'debited') transfer.markDebited();
    else if (cmd.step === 'completed') transfer.complete();
    else if (cmd.step === 'failed') transfer.fail(cmd.reason);
    else if (cmd.step === 'expired') transfer.expire();
    else transfer.markCompensated();
    await this.transfers.save(transfer);
  }
}

/** Every handler of the bank, for `registerAnnals`. */
export const bankHandlers = [
  OpenAccountHandler,
  DepositHandler,
  WithdrawHandler,
  CloseAccountHandler,
  StartTransferHandler,
  AdvanceTransferHandler,
];
