import 'reflect-metadata';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forget, isForgotten, type PersonalDataStore } from '@annals/core';
import type { PostgresEventStore } from '@annals/postgres';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { openBank } from '../../examples/bank-account/src/app.js';
import { BankAccount } from '../../examples/bank-account/src/domain/bank-account.js';
import { FORGOTTEN_OWNER } from '../../examples/bank-account/src/domain/events.js';
import { runScenario } from '../../examples/bank-account/src/scenario.js';

async function toArray<E>(source: AsyncIterable<E>): Promise<E[]> {
  const events: E[] = [];
  for await (const event of source) events.push(event);
  return events;
}

/** Every table of every user schema, with the rows whose text holds `needle` (case-sensitive). */
async function tablesHolding(store: PostgresEventStore, needle: string): Promise<Record<string, number>> {
  const { rows: tables } = await sql<{ schema: string; name: string }>`
    select table_schema as schema, table_name as name from information_schema.tables
    where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema')`.execute(
    store.kysely,
  );
  expect(tables.length, 'the scan sees the tables').toBeGreaterThan(10);
  const found: Record<string, number> = {};
  for (const { schema, name } of tables) {
    const table = sql.id(schema, name);
    const { rows } = await sql<{ n: number }>`
      select count(*)::int as n from ${table} t where strpos(t::text, ${needle}) > 0`.execute(store.kysely);
    if (rows[0]!.n > 0) found[`${schema}.${name}`] = rows[0]!.n;
  }
  return found;
}

describe('bank example: forgetting an account holder (crypto-shredding)', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('after forget and a rebuild of every projection from zero, no table holds the holder’s name', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'annals-forget-'));
    dirs.push(dataDir);
    const bank = await openBank({ store: 'pglite', dataDir, databaseUrl: undefined, reset: false });
    try {
      await runScenario(bank);
      await bank.waitForProjections();
      const store = bank.store as PostgresEventStore;
      // Sealed in the log, in clear in the read models (which are for reading).
      expect(await tablesHolding(store, 'Alice')).toEqual({ 'bank_read.account_balances': 1 });
      expect(bank.statements.holderOf('alice')).toBe('Alice');

      await forget(store as PersonalDataStore, 'alice');
      await bank.waitForProjections();
      expect(bank.statements.holderOf('alice'), 'the statements erased their copy').toBeUndefined();
      const rebuilt: string[] = [];
      for (const runner of bank.runners) {
        for (const name of ['account-statements', 'account-balances']) {
          if (!runner.status().some((s) => s.name === name)) continue;
          await runner.rebuild(name);
          rebuilt.push(name);
        }
      }
      expect(rebuilt.sort()).toEqual(['account-balances', 'account-statements']);
      await bank.waitForProjections();

      expect(await tablesHolding(store, 'Alice'), 'no clear-text copy survives anywhere').toEqual({});
      // The scan does find a holder who was not forgotten.
      // (Bob opened his account by a command: its payload is also in the idempotency records, a copy
      // outside the log that docs/data-protection.md lists as not protected.)
      expect(await tablesHolding(store, 'Bob')).toMatchObject({ 'bank_read.account_balances': 1 });
      expect(bank.statements.holderOf('alice')).toBeUndefined();
      expect(bank.statements.holderOf('bob')).toBe('Bob');
      expect((await bank.balancesTable())?.find((r) => r.accountId === 'alice')?.owner).toBe(FORGOTTEN_OWNER);

      // Every read path: the aggregate, readStream, readAll; the rest of the event is unchanged.
      const alice = await bank.repositories.get(BankAccount).load('alice');
      expect([alice.owner, alice.balance]).toEqual([FORGOTTEN_OWNER, 200_00]);
      const [opened] = await toArray(store.readStream('BankAccount-alice', { maxCount: 1 }));
      expect(isForgotten((opened!.data as { owner: unknown }).owner)).toBe(true);
      expect(opened!.data).toMatchObject({ accountId: 'alice', currency: 'EUR', overdraftLimit: 0 });
      const all = await toArray(store.readAll({ filter: { types: ['AccountOpened'] } }));
      expect(all.map((e) => (e.data as { owner: unknown }).owner)).toEqual([
        { $forgotten: true },
        'Bob',
        'Carol',
      ]);
    } finally {
      await bank.close();
    }
  }, 180_000);
});
