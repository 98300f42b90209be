import {
  CommandBus,
  type CommandData,
  CommandHandler,
  defineCommand,
  type Handles,
  InvalidArgument,
  idempotency,
  Repository,
  retryOnConcurrency,
} from '@annals/core';
import { PostgresIdempotencyStore, SchemaNotMigrated } from '@annals/postgres';
import { toArray } from '@annals/testing';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  Deposit,
  DepositHandler,
  OpenAccount,
  OpenAccountHandler,
} from '../../examples/bank-account/src/application/commands.js';
import { BankAccount, bankEvents } from '../../examples/bank-account/src/domain/index.js';
import { targets, useTestDatabase } from '../postgres/support/test-database.js';

const db = useTestDatabase('idem');

/** A migrated store with the bank's events, an account acc-1 holding 100, and a bus on it. */
async function bank(
  target: (typeof targets)[number],
  extra: (accounts: Repository<BankAccount>) => Handles<any>[] = () => [],
) {
  const store = await db.open(target, { events: bankEvents });
  const accounts = new Repository(BankAccount, { store });
  // #region postgres-idempotency
  const records = new PostgresIdempotencyStore(store);
  const bus = new CommandBus({
    handlers: [new OpenAccountHandler(accounts), new DepositHandler(accounts), ...extra(accounts)],
  })
    // Each attempt of retryOnConcurrency is one transaction: appends and record commit together.
    .use(retryOnConcurrency())
    .use(idempotency({ store: records }));
  // #endregion postgres-idempotency
  await bus.execute(OpenAccount, { accountId: 'acc-1', owner: 'Ada' });
  await bus.execute(Deposit, { accountId: 'acc-1', amount: 100 });
  const events = async () => (await toArray(store.readStream('BankAccount-acc-1'))).map((e) => e.type);
  const recordCount = async () =>
    Number(
      (
        await sql<{
          n: string;
        }>`select count(*)::text as n from ${sql.id(store.schema, 'idempotency_records')}`.execute(
          store.kysely,
        )
      ).rows[0]!.n,
    );
  return { store, accounts, records, bus, events, recordCount };
}

/** Deposits, then fails after the save, before the record: the transaction must roll the deposit back. */
const DepositThenFail = defineCommand(
  'DepositThenFail',
  z.object({ accountId: z.string(), amount: z.number().int().positive() }),
);
@CommandHandler(DepositThenFail)
class DepositThenFailHandler implements Handles<typeof DepositThenFail> {
  failing = true;
  constructor(private readonly accounts: Repository<BankAccount>) {}
  async execute(cmd: CommandData<typeof DepositThenFail>) {
    const account = await this.accounts.load(cmd.accountId);
    account.deposit(cmd.amount);
    await this.accounts.save(account);
    if (this.failing) throw new Error('the handler failed after saving');
    return { balance: account.balance, at: new Date(Date.UTC(2026, 0, 1)) };
  }
}

/** Returns a bigint, which JSON cannot hold. */
const DepositBig = defineCommand('DepositBig', z.object({ accountId: z.string() }));
@CommandHandler(DepositBig)
class DepositBigHandler implements Handles<typeof DepositBig> {
  constructor(private readonly accounts: Repository<BankAccount>) {}
  async execute(cmd: CommandData<typeof DepositBig>) {
    const account = await this.accounts.load(cmd.accountId);
    account.deposit(1);
    await this.accounts.save(account);
    return { balance: BigInt(account.balance) };
  }
}

describe.each(targets)('PostgresIdempotencyStore (%s)', (target) => {
  it('a repeated command id appends once and returns the first result', async () => {
    const { bus, events, records } = await bank(target);
    const first = await bus.execute(Deposit, { accountId: 'acc-1', amount: 5 }, { commandId: 'dep-1' });
    const again = await bus.execute(Deposit, { accountId: 'acc-1', amount: 5 }, { commandId: 'dep-1' });
    expect(first).toEqual({ balance: 105 });
    expect(again, 'the repeat returns the first result').toEqual({ balance: 105 });
    expect(await events()).toEqual(['AccountOpened', 'MoneyDeposited', 'MoneyDeposited']);
    expect(await records.get('dep-1')).toEqual({
      commandType: 'Deposit',
      payload: JSON.stringify({ accountId: 'acc-1', amount: 5 }),
      result: { balance: 105 },
    });
  });

  it('a command that fails after its save leaves neither its events nor a record; its retry appends once', async () => {
    let handler!: DepositThenFailHandler;
    const { bus, events, records } = await bank(target, (accounts) => [
      (handler = new DepositThenFailHandler(accounts)),
    ]);
    const error = await bus
      .execute(DepositThenFail, { accountId: 'acc-1', amount: 7 }, { commandId: 'fail-1' })
      .catch((e: unknown) => e);
    expect((error as Error).message).toBe('the handler failed after saving');
    expect(await events(), 'the deposit saved before the failure was rolled back').toEqual([
      'AccountOpened',
      'MoneyDeposited',
    ]);
    expect(await records.get('fail-1')).toBeUndefined();
    handler.failing = false;
    const result = await bus.execute(
      DepositThenFail,
      { accountId: 'acc-1', amount: 7 },
      { commandId: 'fail-1' },
    );
    // Kept as JSON: the Date comes back as its ISO string, on the first run as on a repeat.
    expect(result).toEqual({ balance: 107, at: '2026-01-01T00:00:00.000Z' });
    expect(
      await bus.execute(DepositThenFail, { accountId: 'acc-1', amount: 7 }, { commandId: 'fail-1' }),
    ).toEqual(result);
    expect(await events()).toEqual(['AccountOpened', 'MoneyDeposited', 'MoneyDeposited']);
  });

  it('refuses a command id reused for another payload, and a result JSON cannot hold, writing nothing', async () => {
    const { bus, events, recordCount } = await bank(target, (accounts) => [new DepositBigHandler(accounts)]);
    await bus.execute(Deposit, { accountId: 'acc-1', amount: 5 }, { commandId: 'dep-2' });
    const records = await recordCount();
    const reused = await bus
      .execute(Deposit, { accountId: 'acc-1', amount: 6 }, { commandId: 'dep-2' })
      .catch((e: unknown) => e);
    expect(reused).toBeInstanceOf(InvalidArgument);
    expect((reused as Error).message).toContain('Command id dep-2 was already used by Deposit');
    const big = await bus
      .execute(DepositBig, { accountId: 'acc-1' }, { commandId: 'big-1' })
      .catch((e: unknown) => e);
    expect(big).toBeInstanceOf(InvalidArgument);
    expect((big as Error).message).toContain('cannot keep as JSON');
    expect(await events(), 'neither the reused id nor the bigint result appended').toEqual([
      'AccountOpened',
      'MoneyDeposited',
      'MoneyDeposited',
    ]);
    expect(await recordCount()).toBe(records);
  });

  it('a schema without the records table (migrated before 0006) is SchemaNotMigrated; the command does not run', async () => {
    const { store, bus, events } = await bank(target);
    await sql`drop table ${sql.id(store.schema, 'idempotency_records')}`.execute(store.kysely);
    const error = await bus
      .execute(Deposit, { accountId: 'acc-1', amount: 5 }, { commandId: 'dep-9' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SchemaNotMigrated);
    expect((error as Error).message).toContain('no idempotency_records table');
    expect(await events()).toEqual(['AccountOpened', 'MoneyDeposited']);
  });

  it('a repository on another store refuses to save inside the command transaction', async () => {
    const other = await db.open(target, { events: bankEvents });
    const { bus, events } = await bank(target);
    const strangers = new Repository(BankAccount, { store: other });
    const Stray = defineCommand('Stray', z.object({}));
    @CommandHandler(Stray)
    class StrayHandler implements Handles<typeof Stray> {
      async execute() {
        const account = new BankAccount('x');
        account.open('X', 'EUR', 0);
        await strangers.save(account);
      }
    }
    bus.register(new StrayHandler());
    const error = await bus.execute(Stray, {}, { commandId: 'stray-1' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidArgument);
    expect((error as Error).message).toContain('another event store');
    expect(await toArray(other.readAll())).toEqual([]);
    expect(await events()).toEqual(['AccountOpened', 'MoneyDeposited']);
  });
});

describe.skipIf(!targets.includes('server'))('PostgresIdempotencyStore across processes (server)', () => {
  it('two buses (as two processes) running one command id at once append once and return one result', async () => {
    const { store, events } = await bank('server');
    const twoBuses = [0, 1].map(() => {
      const accounts = new Repository(BankAccount, { store });
      return new CommandBus({ handlers: [new DepositHandler(accounts)] })
        .use(retryOnConcurrency())
        .use(idempotency({ store: new PostgresIdempotencyStore(store) }));
    });
    for (let round = 0; round < 10; round++) {
      const results = await Promise.all(
        twoBuses.map((bus) =>
          bus.execute(Deposit, { accountId: 'acc-1', amount: 1 }, { commandId: `race-${round}` }),
        ),
      );
      expect(results[0], `round ${round}: both callers get the result of the run that committed`).toEqual(
        results[1],
      );
    }
    expect((await events()).filter((t) => t === 'MoneyDeposited')).toHaveLength(11);
  });
});
