import { CommandBus, hasErrorCode, idempotency, Repository } from '@annals/core';
import {
  type PostgresEventStore,
  PostgresIdempotencyStore,
  PostgresInbox,
  PostgresProcessStore,
} from '@annals/postgres';
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

const db = useTestDatabase('retention');
const DAY = 86_400_000;

/** Moves the time column of the rows `where` selects `days` into the past. */
async function backdate(
  store: PostgresEventStore,
  table: string,
  column: string,
  where: string[],
  days: number,
) {
  const key = table === 'inbox_messages' ? 'message_id' : 'command_id';
  await sql`update ${sql.id(store.schema, table)}
    set ${sql.ref(column)} = now() - ${days} * interval '1 day'
    where ${sql.ref(key)} in (${sql.join(where)})`.execute(store.kysely);
}

async function ids(store: PostgresEventStore, table: string, key: string): Promise<string[]> {
  const { rows } = await sql<{ id: string }>`
    select ${sql.ref(key)} as id from ${sql.id(store.schema, table)} order by 1`.execute(store.kysely);
  return rows.map((r) => r.id);
}

describe.each(targets)('prune: records older than a window are removed, the rest stay (%s)', (target) => {
  it('PostgresInbox.prune removes its consumer’s old records in batches; a redelivery of a removed id has its effect again', async () => {
    const store = await db.open(target);
    const notices = new PostgresInbox(store, { consumer: 'notices' });
    const audit = new PostgresInbox(store, { consumer: 'audit' });
    const effects: string[] = [];
    const effect = (text: string) => async () => {
      effects.push(text);
    };
    for (const id of ['m-1', 'm-2', 'm-3', 'm-4', 'm-5', 'm-6']) await notices.handle(id, effect(id));
    await audit.handle('m-1', effect('audit m-1'));
    // Five of the notices' records and the audit record are 40 days old.
    await backdate(store, 'inbox_messages', 'handled_at', ['m-1', 'm-2', 'm-3', 'm-4', 'm-5'], 40);

    expect(
      await notices.prune({ olderThanMs: 30 * DAY, batchSize: 2 }),
      'five records in batches of two',
    ).toBe(5);
    expect(await notices.handled('m-6'), 'the recent record stays').toBe(true);
    expect(await notices.handled('m-1')).toBe(false);
    expect(await audit.handled('m-1'), 'another consumer’s record is not its to remove').toBe(true);
    expect(await notices.prune({ olderThanMs: 30 * DAY }), 'nothing is left to remove').toBe(0);

    expect(await notices.handle('m-1', effect('m-1 redelivered')), 'a removed id is handled again').toBe(
      true,
    );
    expect(await notices.handle('m-6', effect('m-6 redelivered')), 'a kept id is still a repeat').toBe(false);
    expect(effects).toEqual(['m-1', 'm-2', 'm-3', 'm-4', 'm-5', 'm-6', 'audit m-1', 'm-1 redelivered']);
  });

  it('PostgresIdempotencyStore.prune removes old command records; a retry of a removed id runs the command again', async () => {
    const store = await db.open(target, { events: bankEvents });
    const records = new PostgresIdempotencyStore(store);
    const accounts = new Repository(BankAccount, { store });
    const bus = new CommandBus({
      handlers: [new OpenAccountHandler(accounts), new DepositHandler(accounts)],
    }).use(idempotency({ store: records }));
    await bus.execute(OpenAccount, { accountId: 'acc-1', owner: 'Ada' }, { commandId: 'open-1' });
    await bus.execute(Deposit, { accountId: 'acc-1', amount: 10 }, { commandId: 'deposit-1' });
    await bus.execute(Deposit, { accountId: 'acc-1', amount: 5 }, { commandId: 'deposit-2' });
    await backdate(store, 'idempotency_records', 'recorded_at', ['open-1', 'deposit-1'], 8);

    expect(await records.prune({ olderThanMs: 7 * DAY })).toBe(2);
    expect(await ids(store, 'idempotency_records', 'command_id')).toEqual(['deposit-2']);

    await bus.execute(Deposit, { accountId: 'acc-1', amount: 5 }, { commandId: 'deposit-2' });
    await bus.execute(Deposit, { accountId: 'acc-1', amount: 10 }, { commandId: 'deposit-1' });
    const deposits = [];
    for await (const e of store.readStream('BankAccount-acc-1'))
      if (e.type.includes('Deposit')) deposits.push(e);
    expect(deposits.length, 'deposit-2 was a repeat; deposit-1, pruned, ran again').toBe(3);
  });

  it('PostgresProcessStore.prune removes old command outcomes only', async () => {
    const store = await db.open(target);
    const processes = new PostgresProcessStore(store);
    for (const id of ['c-1', 'c-2', 'c-3']) await processes.recordOutcome(id, { ok: true });
    await backdate(store, 'process_commands', 'recorded_at', ['c-1', 'c-2'], 2);

    expect(await processes.prune({ olderThanMs: DAY })).toBe(2);
    expect(await processes.outcome('c-1')).toBeUndefined();
    expect(await processes.outcome('c-3')).toEqual({ ok: true });
  });

  it('bad options are refused with InvalidArgument and nothing is removed', async () => {
    const store = await db.open(target);
    const inbox = new PostgresInbox(store, { consumer: 'notices' });
    await inbox.handle('m-1', async () => {});
    await backdate(store, 'inbox_messages', 'handled_at', ['m-1'], 40);
    const bad: [string, unknown][] = [
      ['no options', undefined],
      ['a negative window', { olderThanMs: -1 }],
      ['a window that is not a number', { olderThanMs: '30d' }],
      ['an infinite window', { olderThanMs: Number.POSITIVE_INFINITY }],
      ['a batch of zero', { olderThanMs: 0, batchSize: 0 }],
      ['a fractional batch', { olderThanMs: 0, batchSize: 1.5 }],
    ];
    for (const [what, options] of bad) {
      const error = await inbox.prune(options as never).catch((e: unknown) => e);
      expect(hasErrorCode(error, 'INVALID_ARGUMENT'), `${what}: ${String(error)}`).toBe(true);
      expect(String((error as Error).message), what).toMatch(/PostgresInbox\.prune expects .*found/);
    }
    expect(await inbox.handled('m-1'), 'nothing was removed').toBe(true);
  });

  it('after close() prune rejects with StoreClosed', async () => {
    const store = await db.open(target);
    const inbox = new PostgresInbox(store, { consumer: 'notices' });
    const records = new PostgresIdempotencyStore(store);
    await store.close();
    for (const [what, prune] of [
      ['the inbox', () => inbox.prune({ olderThanMs: 0 })],
      ['the idempotency store', () => records.prune({ olderThanMs: 0 })],
    ] as const) {
      const error = await prune().catch((e: unknown) => e);
      expect(hasErrorCode(error, 'STORE_CLOSED'), `${what}: ${String(error)}`).toBe(true);
    }
  });
});
