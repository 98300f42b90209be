import 'reflect-metadata';
import {
  Aggregate,
  AggregateRoot,
  Apply,
  type CommandData,
  CommandHandler,
  defineCommand,
  type EventData,
  type Handles,
  type Repository,
} from '@annals/core';
import { InjectRepository } from '@annals/core/tsyringe';
import { z } from 'zod';
import { BenchDeposited } from './bench-events.js';

type Deposited = EventData<typeof BenchDeposited>;

/** The aggregate of the load and command measurements: a balance kept from deposits. */
@Aggregate('BenchAccount')
export class BenchAccount extends AggregateRoot {
  balance = 0;
  deposits = 0;

  deposit(amount: number, note: string): void {
    if (amount <= 0) throw new RangeError(`a deposit must be positive, found ${amount}`);
    this.raise(BenchDeposited, { accountId: this.id, amount, currency: 'EUR', note });
  }

  @Apply(BenchDeposited)
  protected onDeposited(event: Deposited): void {
    this.balance += event.amount;
    this.deposits += 1;
  }
}

/** The command of the bus measurement. */
export const BenchDeposit = defineCommand(
  'BenchDeposit',
  z.object({ accountId: z.string().min(1), amount: z.number().int().positive(), note: z.string() }),
);

/** Loads the account (a new one when it has no stream yet), deposits, saves: the usual handler shape. */
@CommandHandler(BenchDeposit)
export class BenchDepositHandler implements Handles<typeof BenchDeposit> {
  readonly #accounts: Repository<BenchAccount>;

  constructor(@InjectRepository(BenchAccount) accounts: Repository<BenchAccount>) {
    this.#accounts = accounts;
  }

  async execute(command: CommandData<typeof BenchDeposit>): Promise<void> {
    const account = await this.#accounts.load(command.accountId);
    account.deposit(command.amount, command.note);
    await this.#accounts.save(account);
  }
}
