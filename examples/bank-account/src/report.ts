import type { ProjectionStatus } from '@annals/core';
import type { BalanceRow, Bank } from './app.js';
import { money } from './domain/money.js';
import type { ScenarioResult } from './scenario.js';

/** Builds the report a person reads in ten seconds. */
export async function report(bank: Bank, result: ScenarioResult): Promise<string> {
  const out: string[] = [];
  const line = (text = '') => out.push(text);
  let events = 0;
  const streams = new Set<string>();
  for await (const e of bank.store.readAll()) {
    events++;
    streams.add(e.streamId);
  }

  line(`Annals bank-account example, run ${result.run}, on ${bank.description}`);
  line(
    result.run === 1
      ? `  Imported ${result.imported} events of legacy history (2 deposits stored as MoneyDeposited v1), then ran the commands.`
      : `  Found ${events} stored events from earlier runs: every aggregate below was rebuilt from them. Added one deposit.`,
  );
  line();

  const table = await bank.balancesTable();
  const balances: BalanceRow[] =
    table ??
    (await Promise.all(
      bank.statements.accounts().map(async (id) => {
        const { BankAccount } = await import('./domain/bank-account.js');
        const a = await bank.repositories.get(BankAccount).load(id);
        return {
          accountId: id,
          owner: a.owner,
          currency: a.currency,
          balance: a.balance,
          overdraftLimit: a.overdraftLimit,
          status: a.closed ? 'closed' : 'open',
        };
      }),
    ));
  line(
    table
      ? 'Accounts (account-balances: a PostgreSQL table queried with Kysely)'
      : 'Accounts (loaded through the repository)',
  );
  for (const b of balances) {
    const overdraft = b.overdraftLimit > 0 ? `  overdraft up to ${money(b.overdraftLimit, b.currency)}` : '';
    line(
      `  ${b.accountId.padEnd(6)} ${b.owner.padEnd(6)} ${money(b.balance, b.currency).padStart(10)}  ${b.status}${overdraft}`,
    );
  }
  line();

  line('Statement of alice (account-statements: in memory, rebuilt from the log at every start)');
  for (const s of bank.statements.of('alice')) {
    const amount =
      s.what === 'deposit' ? `+${money(s.amount)}` : s.what === 'withdrawal' ? `-${money(s.amount)}` : '';
    const notes = [
      s.legacy ? 'stored as v1, upcast on read' : '',
      s.transferId ? `transfer ${s.transferId}` : '',
    ]
      .filter(Boolean)
      .join(', ');
    line(
      `  #${String(s.revision).padEnd(3)}${s.what.padEnd(11)}${amount.padStart(10)} ${money(s.balance).padStart(10)}  ${notes}`.trimEnd(),
    );
  }
  line();

  line(`Rejected: ${result.rejected.command}`);
  line(`  ${result.rejected.error}  (nothing was stored)`);
  line();

  line('Transfers (run by the transfer process manager)');
  for (const t of result.transfers) {
    const outcome =
      t.state === 'completed'
        ? 'completed'
        : t.state === 'compensated'
          ? `credit failed (${t.reason}) -> compensated: ${t.from} refunded`
          : t.state === 'expired'
            ? `not credited in time -> expired: ${t.from} refunded`
            : `refused (${t.reason})`;
    line(`  ${t.id}  ${t.from} -> ${t.to}  ${money(t.amount)}: ${outcome}`);
  }
  line();

  line('Projections');
  for (const status of bank.runners.flatMap((r) => r.status()) as ProjectionStatus[]) {
    const from = bank.checkpointsAtStart.get(status.key) ?? 0n;
    const resumed =
      status.key === 'account-statements'
        ? 'replayed from zero'
        : from > 0n
          ? `resumed from checkpoint ${from}`
          : 'started from zero';
    line(`  ${status.key.padEnd(20)} ${status.state.padEnd(8)} position ${status.position}  (${resumed})`);
  }
  line();
  line(`History: ${events} events in ${streams.size} streams.`);
  line(
    bank.description.startsWith('in memory')
      ? 'Nothing was kept. Run `pnpm example` to use the embedded store, where a second run rebuilds everything.'
      : 'Run it again: state is rebuilt from these events and projections resume from their checkpoints (--reset starts over).',
  );
  return out.join('\n');
}
