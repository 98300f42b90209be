import { isAnnalsError } from '@annals/core';
import { type Bank, ExampleRan } from './app.js';
import { CloseAccount, Deposit, OpenAccount, StartTransfer, Withdraw } from './application/commands.js';
import { BankAccount } from './domain/bank-account.js';
import { MoneyDeposited } from './domain/events.js';
import { Transfer, type TransferState } from './domain/transfer.js';

/** What one run of the scenario did, for the report. */
export interface ScenarioResult {
  readonly run: number;
  readonly imported: number;
  readonly rejected: { readonly command: string; readonly error: string };
  readonly transfers: readonly {
    readonly id: string;
    readonly from: string;
    readonly to: string;
    readonly amount: number;
    readonly state: TransferState;
    readonly reason: string | undefined;
    readonly refunded: boolean;
  }[];
}

const runsStream = 'example-runs';

// #region seed
/**
 * History from the bank's old ledger, written before deposits had a currency: MoneyDeposited v1
 * carries a bare number. It is imported as it was stored (`import: true` allows the old version) and
 * every read upcasts it to v2.
 */
async function importLegacyHistory(bank: Bank): Promise<number> {
  const legacy = { source: 'legacy-ledger' };
  const history = [
    {
      type: 'AccountOpened',
      data: { accountId: 'alice', owner: 'Alice', currency: 'EUR', overdraftLimit: 0 },
    },
    {
      type: MoneyDeposited.type,
      schemaVersion: 1,
      data: { accountId: 'alice', amount: 250_00 },
      metadata: legacy,
    },
    {
      type: MoneyDeposited.type,
      schemaVersion: 1,
      data: { accountId: 'alice', amount: 40_00 },
      metadata: legacy,
    },
  ];
  await bank.store.append('BankAccount-alice', history, { expectedRevision: 'no_stream', import: true });
  return history.length;
}
// #endregion seed

/** Runs the scenario: the first run builds the bank, later runs rebuild it and add one deposit. */
export async function runScenario(bank: Bank): Promise<ScenarioResult> {
  const { nextExpectedRevision } = await bank.store.append(runsStream, [
    ExampleRan.create({ store: bank.description }),
  ]);
  const run = Number(nextExpectedRevision) + 1;
  const accounts = bank.repositories.get(BankAccount);
  let imported = 0;

  if (run === 1) {
    imported = await importLegacyHistory(bank);
    // #region commands
    await bank.bus.execute(OpenAccount, { accountId: 'bob', owner: 'Bob', overdraftLimit: 100_00 });
    await bank.bus.execute(OpenAccount, { accountId: 'carol', owner: 'Carol' });
    await bank.bus.execute(Deposit, { accountId: 'bob', amount: 120_00 });
    await bank.bus.execute(Withdraw, { accountId: 'alice', amount: 15_00 });
    await bank.bus.execute(CloseAccount, { accountId: 'carol' });
    // #endregion commands
    await bank.bus.execute(StartTransfer, { transferId: 't-1', from: 'alice', to: 'bob', amount: 75_00 });
    await bank.bus.execute(StartTransfer, { transferId: 't-2', from: 'bob', to: 'carol', amount: 30_00 });
    // dave never opens an account: the credit is retried until the time limit, then refunded.
    await bank.bus.execute(StartTransfer, { transferId: 't-3', from: 'alice', to: 'dave', amount: 20_00 });
  } else {
    await bank.bus.execute(Deposit, { accountId: 'alice', amount: 10_00 });
  }

  const transfers = [];
  for (const id of ['t-1', 't-2', 't-3']) transfers.push(await settledTransfer(bank, id));
  const rejected = await rejectedCommand(bank);
  await bank.waitForProjections();
  if (!(await accounts.exists('alice'))) throw new Error('the scenario expected account alice to exist');
  return { run, imported, rejected, transfers };
}

/** A withdrawal that breaks the overdraft rule: the domain error reaches the caller, nothing is stored. */
async function rejectedCommand(bank: Bank): Promise<ScenarioResult['rejected']> {
  const command = 'Withdraw €500.00 from bob';
  try {
    await bank.bus.execute(Withdraw, { accountId: 'bob', amount: 500_00 });
  } catch (error) {
    const name = isAnnalsError(error) ? error.code : (error as Error).name;
    return { command, error: `${name}: ${(error as Error).message}` };
  }
  throw new Error(`${command} was expected to be refused`);
}

/** How long a transfer may take to settle before the scenario reports a hang. */
const SETTLE_BOUND_MS = 120_000;

/**
 * Waits until the transfer process has taken a transfer to a final state. The bound only catches a
 * hang: on a loaded machine, or while another session holds the server's read horizon back, the
 * process may take many seconds.
 */
async function settledTransfer(bank: Bank, id: string) {
  const transfers = bank.repositories.get(Transfer);
  const deadline = Date.now() + SETTLE_BOUND_MS;
  for (;;) {
    const t = await transfers.load(id);
    const final =
      t.state === 'completed' ||
      t.state === 'compensated' ||
      (t.state === 'failed' && !t.debited) ||
      (t.state === 'expired' && t.refunded);
    if (final) {
      const { from, to, amount, state, reason, refunded } = t;
      return { id, from, to, amount, state, reason, refunded };
    }
    if (Date.now() > deadline)
      throw new Error(`transfer ${id} is still ${t.state} after ${SETTLE_BOUND_MS / 1000} s`);
    // Not too often: on PGlite (one connection) each look waits for the process manager's work.
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
