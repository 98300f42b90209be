import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { waitFor as waitForCondition } from '../../support/wait-for.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const fixture = fileURLToPath(new URL('../fixtures/transfer-node.ts', import.meta.url));

/** What the tests seed: accounts (with a first deposit) and transfers started between them. */
export interface Seed {
  readonly accounts: readonly { readonly id: string; readonly deposit: number; readonly closed?: boolean }[];
  readonly transfers: readonly {
    readonly id: string;
    readonly from: string;
    readonly to: string;
    readonly amount: number;
  }[];
}

/** A bank node (test/process-crash/fixtures/transfer-node.ts) in a child process. */
export class BankNode {
  readonly child: ChildProcess;
  /** The crash point it stopped at, once it reports one. */
  crashedAt: string | undefined;
  started = false;
  /** The keys it runs (state running or catching up), as last reported. */
  active: string[] = [];
  stderr = '';
  readonly exited: Promise<number | null>;
  #buffer = '';

  constructor(env: Readonly<Record<string, string>>) {
    // `node --import tsx`, not the tsx CLI: the CLI runs the script in a grandchild that a SIGKILL
    // of the CLI would leave running.
    this.child = spawn(process.execPath, ['--import', 'tsx', fixture], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => this.#read(chunk));
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  #read(chunk: string): void {
    this.#buffer += chunk;
    const lines = this.#buffer.split('\n');
    this.#buffer = lines.pop() ?? '';
    for (const line of lines) {
      let message: { type?: string; point?: string; statuses?: { key: string; state: string }[] };
      try {
        message = JSON.parse(line);
      } catch {
        continue;
      }
      if (message.type === 'crash-point') this.crashedAt = message.point;
      if (message.type === 'started') this.started = true;
      if (message.type === 'status') {
        this.active = (message.statuses ?? [])
          .filter((s) => s.state === 'running' || s.state === 'catching-up')
          .map((s) => s.key);
      }
    }
  }
}

/** Polls `condition` until it holds; a killed node may take a while to be replaced, hence 90 s. */
export const waitFor = (
  condition: () => boolean | Promise<boolean>,
  what: string,
  boundMs = 90_000,
): Promise<void> => waitForCondition(condition, what, { boundMs, intervalMs: 50 });

/** One transfer as the log tells it. */
export interface TransferFacts {
  readonly id: string;
  /** The transfer's last event type (TransferStarted, TransferCompleted, ...). */
  readonly last: string | undefined;
  readonly withdrawals: number;
  readonly credits: number;
  readonly refunds: number;
}

/** Reads the bank's log in `schema` with plain SQL: balances and what happened to each transfer. */
export class BankLedger {
  readonly #client: pg.Client;
  constructor(
    url: string,
    readonly schema: string,
  ) {
    this.#client = new pg.Client({ connectionString: url });
  }

  async open(): Promise<void> {
    await this.#client.connect();
    await this.#client.query(`drop schema if exists ${pg.escapeIdentifier(this.schema)} cascade`);
  }

  async close(): Promise<void> {
    await this.#client.query(`drop schema if exists ${pg.escapeIdentifier(this.schema)} cascade`);
    await this.#client.end();
  }

  /** The balance of every account: deposits minus withdrawals. */
  async balances(): Promise<Record<string, number>> {
    const { rows } = await this.#client.query<{ account: string; balance: string }>(
      `select data->>'accountId' as account,
         sum(case when type = 'MoneyDeposited' then (data->'amount'->>'value')::bigint else -(data->'amount'->>'value')::bigint end)::text as balance
       from ${this.#t('events')} where type in ('MoneyDeposited', 'MoneyWithdrawn') group by 1 order by 1`,
    );
    return Object.fromEntries(rows.map((r) => [r.account, Number(r.balance)]));
  }

  async transfer(id: string): Promise<TransferFacts> {
    const { rows } = await this.#client.query<{ last: string | null; w: number; c: number; r: number }>(
      `select
         (select type from ${this.#t('events')} where stream_id = $2 order by revision desc limit 1) as last,
         (select count(*)::int from ${this.#t('events')} where type = 'MoneyWithdrawn' and data->>'transferId' = $1) as w,
         (select count(*)::int from ${this.#t('events')} where type = 'MoneyDeposited' and data->>'transferId' = $1) as c,
         (select count(*)::int from ${this.#t('events')} where type = 'MoneyDeposited' and data->>'transferId' = $1 || ':refund') as r`,
      [id, `Transfer-${id}`],
    );
    const row = rows[0]!;
    return { id, last: row.last ?? undefined, withdrawals: row.w, credits: row.c, refunds: row.r };
  }

  /** A transfer is settled once nothing more will happen to it. */
  static settled(t: TransferFacts): boolean {
    return (
      t.last === 'TransferCompleted' ||
      t.last === 'TransferCompensated' ||
      (t.last === 'TransferFailed' && t.withdrawals === 0)
    );
  }

  #t(table: string): string {
    return `${pg.escapeIdentifier(this.schema)}.${pg.escapeIdentifier(table)}`;
  }
}
