import { defineProjection, isForgotten, SubjectForgottenEvent } from '@annals/core';
import { AccountClosed, AccountOpened, MoneyDeposited, MoneyWithdrawn } from '../domain/events.js';

/** One line of an account statement. */
export interface StatementLine {
  readonly revision: bigint;
  readonly what: 'opened' | 'deposit' | 'withdrawal' | 'closed';
  readonly amount: number;
  readonly balance: number;
  readonly transferId: string | undefined;
  /** Imported from the legacy ledger: stored at MoneyDeposited v1 and upcast on every read. */
  readonly legacy: boolean;
}

/** Per-account statements, kept in process memory and rebuilt from the log at each start. */
export class Statements {
  readonly #lines = new Map<string, StatementLine[]>();
  /** The holder's name printed on each account's statements: personal data, erased on forget. */
  readonly #holders = new Map<string, string>();

  add(accountId: string, line: Omit<StatementLine, 'balance'>): void {
    const lines = this.#lines.get(accountId) ?? [];
    const previous = lines.at(-1)?.balance ?? 0;
    const delta = line.what === 'deposit' ? line.amount : line.what === 'withdrawal' ? -line.amount : 0;
    lines.push({ ...line, balance: previous + delta });
    this.#lines.set(accountId, lines);
  }

  /** The name on the statements of `accountId`, undefined once its holder was forgotten. */
  holderOf(accountId: string): string | undefined {
    return this.#holders.get(accountId);
  }

  setHolder(accountId: string, name: string): void {
    this.#holders.set(accountId, name);
  }

  /** Erases the copy of a forgotten holder's name (the subject is the account id). */
  forgetHolder(accountId: string): void {
    this.#holders.delete(accountId);
  }

  of(accountId: string): readonly StatementLine[] {
    return this.#lines.get(accountId) ?? [];
  }

  accounts(): string[] {
    return [...this.#lines.keys()].sort();
  }

  clear(): void {
    this.#lines.clear();
    this.#holders.clear();
  }
}

// #region statements
/** Builds {@link Statements} from the account events (upcast events arrive as version 2). */
export function accountStatements(statements: Statements) {
  return defineProjection({
    name: 'account-statements',
    events: [AccountOpened, MoneyDeposited, MoneyWithdrawn, AccountClosed, SubjectForgottenEvent],
    handlers: {
      AccountOpened: (e) => {
        if (!isForgotten(e.data.owner)) statements.setHolder(e.data.accountId, e.data.owner);
        statements.add(e.data.accountId, {
          revision: e.revision,
          what: 'opened',
          amount: 0,
          transferId: undefined,
          legacy: false,
        });
      },
      MoneyDeposited: (e) =>
        statements.add(e.data.accountId, {
          revision: e.revision,
          what: 'deposit',
          amount: e.data.amount.value,
          transferId: e.data.transferId,
          legacy: e.metadata.source === 'legacy-ledger',
        }),
      MoneyWithdrawn: (e) =>
        statements.add(e.data.accountId, {
          revision: e.revision,
          what: 'withdrawal',
          amount: e.data.amount.value,
          transferId: e.data.transferId,
          legacy: false,
        }),
      AccountClosed: (e) =>
        statements.add(e.data.accountId, {
          revision: e.revision,
          what: 'closed',
          amount: 0,
          transferId: undefined,
          legacy: false,
        }),
      SubjectForgotten: (e) => statements.forgetHolder(e.data.subject),
    },
    reset: () => statements.clear(),
  });
}
// #endregion statements
