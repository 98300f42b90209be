import { fileURLToPath } from 'node:url';
import { CommandBus, Repository } from '@annals/core';
import { toArray } from '@annals/testing';
import { describe, expect, it } from 'vitest';
import {
  Deposit,
  DepositHandler,
  OpenAccount,
  OpenAccountHandler,
} from '../../examples/bank-account/src/application/commands.js';
import { BankAccount, bankEvents } from '../../examples/bank-account/src/domain/index.js';
import { databaseUrl, useTestDatabase } from '../postgres/support/test-database.js';
import { runTsx } from '../support/spawn-tsx.js';

const child = fileURLToPath(new URL('./support/deposit-child.ts', import.meta.url));
const db = useTestDatabase('crash', { pglite: false });

// A process executing a Deposit with PostgresIdempotencyStore is killed (SIGKILL) at each point
// between its handler and its commit, then the same command (same id) is executed again by a new
// process: the deposit must be appended once, and the retry must return the first result.
describe.skipIf(!databaseUrl)('a command killed between handling and commit, then retried (server)', () => {
  it.each([
    ['handled', 'the handler returned, its events appended in the open transaction'],
    ['appended', 'right after the append statement'],
    ['recorded', 'right after the idempotency record, before COMMIT'],
    ['committed', 'right after COMMIT, before the caller got the result'],
  ])('killed when %s (%s): one append, the first result', async (killAt) => {
    const store = await db.open('server', { events: bankEvents });
    const accounts = new Repository(BankAccount, { store });
    const bus = new CommandBus({
      handlers: [new OpenAccountHandler(accounts), new DepositHandler(accounts)],
    });
    await bus.execute(OpenAccount, { accountId: 'acc-1', owner: 'Ada' });
    await bus.execute(Deposit, { accountId: 'acc-1', amount: 100 });
    const env = { DATABASE_URL: databaseUrl! };

    const killed = await runTsx(child, [store.schema, 'dep-crash', '5', killAt], env);
    expect(killed.signal, `the first process was killed at "${killAt}" (stderr: ${killed.stderr})`).toBe(
      'SIGKILL',
    );
    const committed = killAt === 'committed';
    const deposits = async () =>
      (await toArray(store.readStream('BankAccount-acc-1'))).filter(
        (e) => e.metadata.causationId === 'dep-crash',
      );
    expect(await deposits(), 'what the killed process left').toHaveLength(committed ? 1 : 0);

    // Another deposit meanwhile: a retry that ran the handler again would see balance 110, not 105.
    await bus.execute(Deposit, { accountId: 'acc-1', amount: 10 });
    const retried = await runTsx(child, [store.schema, 'dep-crash', '5'], env);
    expect(retried.code, `the retry ran to its end (stderr: ${retried.stderr})`).toBe(0);
    expect(JSON.parse(retried.stdout), 'the result of the run that committed').toEqual({
      balance: committed ? 105 : 115,
    });
    expect(await deposits(), 'the command appended exactly once').toHaveLength(1);
    const again = await runTsx(child, [store.schema, 'dep-crash', '5'], env);
    expect(JSON.parse(again.stdout), 'a further repeat returns the same first result').toEqual({
      balance: committed ? 105 : 115,
    });
    expect(await deposits()).toHaveLength(1);
  });
});
