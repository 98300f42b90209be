import { CommandBus, InvalidArgument, Repository } from '@annals/core';
import { PostgresInbox, SchemaNotMigrated } from '@annals/postgres';
import { toArray } from '@annals/testing';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import {
  Deposit,
  DepositHandler,
  OpenAccount,
  OpenAccountHandler,
} from '../../examples/bank-account/src/application/commands.js';
import { BankAccount, bankEvents } from '../../examples/bank-account/src/domain/index.js';
import { targets, useTestDatabase } from '../postgres/support/test-database.js';

const db = useTestDatabase('inbox');

/** A store with a `notices` table the effects write to, and an inbox. */
async function consumer(target: (typeof targets)[number]) {
  const store = await db.open(target, { events: bankEvents });
  await sql`create table ${sql.id(store.schema, 'notices')} (id serial primary key, text text not null)`.execute(
    store.kysely,
  );
  const inbox = new PostgresInbox(store, { consumer: 'notices' });
  const notices = async () =>
    (
      await sql<{ text: string }>`select text from ${sql.id(store.schema, 'notices')} order by id`.execute(
        store.kysely,
      )
    ).rows.map((r) => r.text);
  const note = (text: string) => async (tx: any) => {
    await sql`insert into ${sql.id(store.schema, 'notices')} (text) values (${text})`.execute(tx);
  };
  return { store, inbox, notices, note };
}

describe.each(targets)('PostgresInbox (%s)', (target) => {
  it('a redelivered message has no second effect', async () => {
    const { inbox, notices, note } = await consumer(target);
    expect(await inbox.handle('m-1', note('first delivery'))).toBe(true);
    expect(await inbox.handle('m-1', note('redelivery'))).toBe(false);
    expect(await inbox.handle('m-2', note('another message'))).toBe(true);
    expect(await notices()).toEqual(['first delivery', 'another message']);
    expect(await inbox.handled('m-1')).toBe(true);
    expect(await inbox.handled('m-3')).toBe(false);
  });

  it('effects that fail leave no record, so the redelivery applies them', async () => {
    const { inbox, notices, note } = await consumer(target);
    const failing = async (tx: any) => {
      await note('written, then rolled back')(tx);
      throw new Error('the effects failed');
    };
    await expect(inbox.handle('m-1', failing)).rejects.toThrow('the effects failed');
    expect(await inbox.handled('m-1')).toBe(false);
    expect(await inbox.handle('m-1', note('redelivered'))).toBe(true);
    expect(await notices()).toEqual(['redelivered']);
  });

  it('message ids are per consumer; a bad id is refused before anything is written', async () => {
    const { store, inbox, notices, note } = await consumer(target);
    const other = new PostgresInbox(store, { consumer: 'audit' });
    expect(await inbox.handle('m-1', note('notices'))).toBe(true);
    expect(await other.handle('m-1', note('audit'))).toBe(true);
    await expect(inbox.handle('', note('never'))).rejects.toBeInstanceOf(InvalidArgument);
    await expect(inbox.handle('bad\u0000id', note('never'))).rejects.toThrow(/NUL character/);
    expect(() => new PostgresInbox(store, { consumer: '' })).toThrow(InvalidArgument);
    expect(await notices()).toEqual(['notices', 'audit']);
  });

  it('a schema without the inbox table (migrated before 0006) is SchemaNotMigrated; the effects do not run', async () => {
    const { store, inbox, notices, note } = await consumer(target);
    await sql`drop table ${sql.id(store.schema, 'inbox_messages')}`.execute(store.kysely);
    const error = await inbox.handle('m-1', note('never')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SchemaNotMigrated);
    expect((error as Error).message).toContain('no inbox_messages table');
    await expect(inbox.handled('m-1')).rejects.toBeInstanceOf(SchemaNotMigrated);
    expect(await notices()).toEqual([]);
  });

  it('commands executed in the effects join the transaction: a failure after them appends nothing', async () => {
    const { store, inbox } = await consumer(target);
    const accounts = new Repository(BankAccount, { store });
    const bus = new CommandBus({
      handlers: [new OpenAccountHandler(accounts), new DepositHandler(accounts)],
    });
    await bus.execute(OpenAccount, { accountId: 'acc-1', owner: 'Ada' });
    const deposit = (fail: boolean) => async () => {
      await bus.execute(Deposit, { accountId: 'acc-1', amount: 10 });
      if (fail) throw new Error('failed after the command');
    };
    await expect(inbox.handle('pay-1', deposit(true))).rejects.toThrow('failed after the command');
    expect(await inbox.handle('pay-1', deposit(false))).toBe(true);
    expect(await inbox.handle('pay-1', deposit(false))).toBe(false);
    const types = (await toArray(store.readStream('BankAccount-acc-1'))).map((e) => e.type);
    expect(types).toEqual(['AccountOpened', 'MoneyDeposited']);
  });
});

describe.skipIf(!targets.includes('server'))('PostgresInbox with concurrent deliveries (server)', () => {
  it('two deliveries of one message at once: one effect, the other waits and is skipped', async () => {
    const { inbox, notices, note } = await consumer('server');
    for (let round = 0; round < 10; round++) {
      const outcomes = await Promise.all([
        inbox.handle(`m-${round}`, note(`a${round}`)),
        inbox.handle(`m-${round}`, note(`b${round}`)),
      ]);
      expect(outcomes.sort(), `round ${round}`).toEqual([false, true]);
    }
    expect(await notices()).toHaveLength(10);
  });
});
