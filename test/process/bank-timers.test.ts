import 'reflect-metadata';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock, ProcessTimerFired, type RecordedEvent } from '@annals/core';
import { type PostgresEventStore, PostgresProjectionControl } from '@annals/postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { type Bank, openBank } from '../../examples/bank-account/src/app.js';
import { Deposit, OpenAccount, StartTransfer } from '../../examples/bank-account/src/application/commands.js';
import type { ExampleOptions } from '../../examples/bank-account/src/cli.js';
import { BankAccount, Transfer } from '../../examples/bank-account/src/domain/index.js';

const timeouts = { creditTimeoutMs: 60_000, creditRetryMs: 5_000 };

/** Polls until `condition` holds; the bound only catches a hang. */
async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const state = (bank: Bank, id: string) => bank.repositories.get(Transfer).load(id);
const balance = async (bank: Bank, id: string) => (await bank.repositories.get(BankAccount).load(id)).balance;

describe('the bank transfer process manager on PGlite, with a manual clock', () => {
  const dirs: string[] = [];
  /** One data folder for the file: a new one takes many seconds to initialise. */
  const folder = async () => {
    if (dirs.length === 0) dirs.push(await mkdtemp(join(tmpdir(), 'annals-pm-')));
    return dirs[0]!;
  };
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('a credit not made by its deadline expires once the clock passes it, and the source is refunded once', async () => {
    const options: ExampleOptions = {
      store: 'pglite',
      dataDir: await folder(),
      databaseUrl: undefined,
      reset: false,
    };
    const clock = new ManualClock(new Date('2030-01-01T00:00:00Z'));
    let bank = await openBank(options, { transfers: timeouts, clock });
    try {
      await bank.bus.execute(OpenAccount, { accountId: 'alice', owner: 'Alice' });
      await bank.bus.execute(OpenAccount, { accountId: 'bob', owner: 'Bob' });
      await bank.bus.execute(Deposit, { accountId: 'alice', amount: 100_00 });
      await bank.bus.execute(StartTransfer, {
        transferId: 'to-bob',
        from: 'alice',
        to: 'bob',
        amount: 10_00,
      });
      await bank.bus.execute(StartTransfer, {
        transferId: 'to-dave',
        from: 'alice',
        to: 'dave',
        amount: 20_00,
      });
      await until(async () => (await state(bank, 'to-bob')).state === 'completed', 'to-bob to complete');
      await until(
        async () => (await bank.processes.processes.pending('transfer-process', 'to-dave')).length === 2,
        'to-dave to wait for its credit (deadline and retry pending)',
      );
      expect(
        (await bank.processes.processes.pending('transfer-process', 'to-bob')).length,
        'a completed transfer has no timer',
      ).toBe(0);

      // 59 s pass: the credit is retried, the transfer is not expired a moment early.
      clock.advance(59_999);
      await bank.processes.fireDueTimers();
      await bank.processes.waitUntilCaughtUp();
      expect((await state(bank, 'to-dave')).state).toBe('debited');
      expect(await balance(bank, 'alice')).toBe(70_00);
    } finally {
      await bank.close();
    }

    // Down for an hour: the deadline passed meanwhile; it fires at the restart, late, once.
    clock.advance(3_600_000);
    bank = await openBank(options, { transfers: timeouts, clock });
    try {
      await until(async () => (await state(bank, 'to-dave')).refunded, 'to-dave to be refunded');
      const t = await state(bank, 'to-dave');
      expect([t.state, t.refunded]).toEqual(['expired', true]);
      await bank.processes.waitUntilCaughtUp();
      expect(await balance(bank, 'alice')).toBe(90_00);
      expect(await balance(bank, 'bob')).toBe(10_00);
      expect(await bank.processes.processes.pending('transfer-process')).toEqual([]);
      const fires: RecordedEvent[] = [];
      for await (const e of bank.store.readAll({ filter: { types: [ProcessTimerFired.type] } }))
        fires.push(e);
      const deadlines = fires.filter((e) => (e.data as { name: string }).name === 'CreditDeadline');
      expect(
        deadlines.map((e) => (e.data as { key: string }).key),
        'one deadline fired, once',
      ).toEqual(['to-dave']);
    } finally {
      await bank.close();
    }
  }, 180_000);

  it('a pause recorded in the store (as annals projections pause does) stops the process manager; resumed, it goes on', async () => {
    // Accounts of their own, in the folder the other test may have used.
    const options: ExampleOptions = {
      store: 'pglite',
      dataDir: await folder(),
      databaseUrl: undefined,
      reset: false,
    };
    const bank = await openBank(options, { transfers: timeouts });
    try {
      const control = new PostgresProjectionControl(bank.store as PostgresEventStore);
      await bank.bus.execute(OpenAccount, { accountId: 'payer', owner: 'Payer' });
      await bank.bus.execute(OpenAccount, { accountId: 'payee', owner: 'Payee' });
      await bank.bus.execute(Deposit, { accountId: 'payer', amount: 100_00 });
      await control.pause('transfer-process');
      await until(
        async () => bank.processes.status().find((s) => s.key === 'transfer-process')?.state === 'paused',
        'the runner to report transfer-process paused',
      );
      await bank.bus.execute(StartTransfer, { transferId: 't-1', from: 'payer', to: 'payee', amount: 10_00 });
      expect((await state(bank, 't-1')).state, 'the transfer while its process manager is paused').toBe(
        'started',
      );
      await control.resume('transfer-process');
      await until(
        async () => (await state(bank, 't-1')).state === 'completed',
        't-1 to complete after resume',
      );
      expect(await balance(bank, 'payee')).toBe(10_00);
    } finally {
      await bank.close();
    }
  }, 180_000);
});
