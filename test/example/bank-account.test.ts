import 'reflect-metadata';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { openBank } from '../../examples/bank-account/src/app.js';
import type { ExampleOptions } from '../../examples/bank-account/src/cli.js';
import { BankAccount } from '../../examples/bank-account/src/domain/bank-account.js';
import { report } from '../../examples/bank-account/src/report.js';
import { runScenario } from '../../examples/bank-account/src/scenario.js';
import { ownDatabase } from './support/own-database.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const databaseUrl = process.env.DATABASE_URL;

async function runOnce(options: ExampleOptions) {
  const bank = await openBank(options);
  try {
    const result = await runScenario(bank);
    const text = await report(bank, result);
    const accounts = bank.repositories.get(BankAccount);
    const balances = Object.fromEntries(
      await Promise.all(['alice', 'bob', 'carol'].map(async (id) => [id, (await accounts.load(id)).balance])),
    );
    return { result, text, balances, table: await bank.balancesTable() };
  } finally {
    await bank.close();
  }
}

/** What the first run must show, on every store. */
function expectFirstRun(first: Awaited<ReturnType<typeof runOnce>>) {
  expect(first.result.run).toBe(1);
  // alice: 250 + 40 imported at v1 (upcast), -15, -75 (t-1); bob: 120 + 75 - 30 + 30 refund.
  expect(first.balances).toEqual({ alice: 200_00, bob: 195_00, carol: 0 });
  expect(first.result.transfers.map((t) => t.state)).toEqual(['completed', 'compensated', 'expired']);
  expect(first.result.transfers[2]?.refunded, 't-3 to an account never opened is refunded').toBe(true);
  expect(first.result.transfers[1]?.reason).toBe('Account carol is closed.');
  expect(first.result.rejected.error).toMatch(
    /^OverdraftLimitExceeded: Withdrawing €500\.00 from account bob/,
  );
  expect(first.text).toContain('stored as v1, upcast on read');
  expect(first.text).toContain(
    't-2  bob -> carol  €30.00: credit failed (Account carol is closed.) -> compensated',
  );
  expect(first.text).toContain('t-3  alice -> dave  €20.00: not credited in time -> expired: alice refunded');
}

describe('bank-account example, end to end', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('memory: runs the whole scenario', async () => {
    const first = await runOnce({ store: 'memory', dataDir: '', databaseUrl: undefined, reset: false });
    expectFirstRun(first);
    expect(first.table).toBeUndefined();
  });

  it('pglite: a second run rebuilds state from the stored events and resumes projections', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'annals-bank-'));
    dirs.push(dataDir);
    const options: ExampleOptions = { store: 'pglite', dataDir, databaseUrl: undefined, reset: false };
    const first = await runOnce(options);
    expectFirstRun(first);
    expect(first.table?.map((r) => [r.accountId, r.balance, r.status])).toEqual([
      ['alice', 200_00, 'open'],
      ['bob', 195_00, 'open'],
      ['carol', 0, 'closed'],
    ]);

    const second = await runOnce(options);
    expect(second.result.run).toBe(2);
    expect(second.balances).toEqual({ alice: 210_00, bob: 195_00, carol: 0 });
    expect(second.table?.find((r) => r.accountId === 'alice')?.balance).toBe(210_00);
    expect(second.text).toMatch(
      /account-balances\s+running\s+position \d+\s+\(resumed from checkpoint \d+\)/,
    );
    expect(second.text).toMatch(/account-statements\s+running\s+position \d+\s+\(replayed from zero\)/);
    expect(second.text).toContain('every aggregate below was rebuilt from them');

    const third = await runOnce({ ...options, reset: true });
    expect(third.result.run).toBe(1);
  }, 180_000);

  it.skipIf(!databaseUrl)(
    'server: the same scenario on PostgreSQL',
    async () => {
      // A database of its own: the example's schema names are fixed, and --reset drops only its own.
      const options: ExampleOptions = {
        store: 'postgres',
        dataDir: '',
        databaseUrl: ownDatabase('example'),
        reset: true,
      };
      expectFirstRun(await runOnce(options));
      const second = await runOnce({ ...options, reset: false });
      expect(second.balances).toEqual({ alice: 210_00, bob: 195_00, carol: 0 });
    },
    300_000,
  );

  it('the command line refuses a bad option with the usage, and runs on the memory store', async () => {
    const exec = promisify(execFile);
    const bad = await exec(
      process.execPath,
      ['--import', 'tsx', 'examples/bank-account/src/main.ts', '--store', 'mongo'],
      {
        cwd: root,
      },
    ).catch((error: { code: number; stderr: string }) => error);
    expect('code' in bad && bad.code).toBe(2);
    expect((bad as { stderr: string }).stderr).toContain(
      '--store must be memory, pglite or postgres; found "mongo".',
    );
    expect((bad as { stderr: string }).stderr).toContain('Usage: pnpm example');

    const { stdout } = await exec(
      process.execPath,
      ['--import', 'tsx', 'examples/bank-account/src/main.ts', '--', '--store', 'memory'],
      { cwd: root, env: { ...process.env, DATABASE_URL: '' } },
    );
    expect(stdout).toContain('Annals bank-account example, run 1, on in memory');
    expect(stdout).toMatch(/alice\s+Alice\s+€200\.00\s+open/);
  }, 300_000);
});
