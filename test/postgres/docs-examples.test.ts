/**
 * The code shown in docs/guides/postgres.md: each `#region` is a snippet of that page (kept identical by
 * test/docs/snippets.test.ts), and runs here so what the page shows works.
 */
import { defineEvent, isAnnalsError, type RecordedEvent } from '@annals/core';
import { PostgresCheckpointStore, PostgresEventStore } from '@annals/postgres';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { databaseUrl, useTestDatabase } from './support/test-database.js';

const db = useTestDatabase('docs');

const AccountOpened = defineEvent('AccountOpened', { schema: z.object({ owner: z.string() }) });
const MoneyDeposited = defineEvent('MoneyDeposited', { schema: z.object({ amount: z.number().int() }) });

describe('docs/guides/postgres.md', () => {
  it('embedded: a PGlite instance, migrate, append, read', async () => {
    const pglite = db.pglite;
    const schema = db.schema('pglite');
    const seen: string[] = [];
    // #region embedded
    const store = await PostgresEventStore.create(
      { pglite }, // a PGlite instance, or a data folder: { pglite: './.data/annals' }
      { events: [AccountOpened, MoneyDeposited], strict: true, schema },
    );
    await store.migrate(); // creates or upgrades the tables; idempotent
    await store.append('account-1', [AccountOpened.create({ owner: 'Ada' })], {
      expectedRevision: 'no_stream',
    });
    await store.append('account-1', [MoneyDeposited.create({ amount: 100 })], { expectedRevision: 0n });
    for await (const event of store.readStream('account-1')) seen.push(`${event.revision} ${event.type}`);
    await store.close(); // a PGlite instance you passed stays open
    // #endregion embedded
    expect(seen).toEqual(['0 AccountOpened', '1 MoneyDeposited']);
  });

  it.skipIf(!databaseUrl)('server: a connection string, a pool the store owns', async () => {
    const schema = db.schema('server');
    // #region server
    const store = await PostgresEventStore.create(
      { connectionString: process.env.DATABASE_URL!, pool: { max: 20 } },
      { events: [AccountOpened, MoneyDeposited], schema },
    );
    await store.migrate();
    // #endregion server
    try {
      const result = await store.append('account-1', [AccountOpened.create({ owner: 'Ada' })]);
      expect(result.nextExpectedRevision).toBe(0n);
    } finally {
      await store.close();
    }
  });

  it.skipIf(!databaseUrl)('outages: subscriptions report their health and may have a limit', async () => {
    const schema = db.schema('server');
    // #region outage
    const store = await PostgresEventStore.create(
      { connectionString: process.env.DATABASE_URL! },
      {
        events: [AccountOpened, MoneyDeposited],
        schema,
        subscriptions: {
          maxUnavailableMs: 5 * 60_000, // end a subscription after five minutes without the database
          onHealth: (health) =>
            console.warn(`subscriptions are ${health.status} since ${health.since.toISOString()}`),
        },
      },
    );
    // #endregion outage
    try {
      await store.migrate();
      await store.append('account-1', [AccountOpened.create({ owner: 'Ada' })]);
      for await (const event of store.subscribeToAll()) {
        expect(event.type).toBe('AccountOpened');
        break;
      }
    } finally {
      await store.close();
    }
  });

  it('a read model and its checkpoint commit in one transaction', async () => {
    const store = await db.open('pglite', { events: [AccountOpened, MoneyDeposited] });
    await db.raw(
      'pglite',
      `create table "${store.schema}".balances (account text primary key, amount int not null)`,
    );
    await store.append('account-1', [
      MoneyDeposited.create({ amount: 30 }),
      MoneyDeposited.create({ amount: 12 }),
    ]);
    const balances = store.kysely.withSchema(store.schema);
    // #region checkpoint
    const checkpoints = new PostgresCheckpointStore(store);
    const previous = await checkpoints.load('balances');
    const batch: RecordedEvent[] = [];
    for await (const event of store.readAll({ fromPosition: (previous ?? -1n) + 1n, maxCount: 100 }))
      batch.push(event);
    await store.transaction(async (tx) => {
      for (const event of batch) {
        if (event.type !== 'MoneyDeposited') continue;
        const { amount } = event.data as { amount: number };
        await tx
          .withSchema(store.schema)
          .insertInto('balances')
          .values({ account: event.streamId, amount })
          .onConflict((c) =>
            c.column('account').doUpdateSet((eb) => ({ amount: eb('balances.amount', '+', amount) })),
          )
          .execute();
      }
      // Throws CheckpointConflict (and rolls the whole batch back) if another runner moved the checkpoint.
      await checkpoints.save('balances', batch.at(-1)!.position, { expected: previous, transaction: tx });
    });
    // #endregion checkpoint
    expect(await balances.selectFrom('balances').selectAll().execute()).toEqual([
      { account: 'account-1', amount: 42 },
    ]);
    expect(await checkpoints.load('balances')).toBe(batch.at(-1)!.position);
  });

  it('diagnostics name what holds readers back', async () => {
    const store = await db.open('pglite');
    const warnings: string[] = [];
    const warn = (message: string) => warnings.push(message);
    // #region diagnostics
    const { eventsBehindHorizon, oldestTransaction } = await store.diagnostics();
    if (eventsBehindHorizon > 0 && oldestTransaction?.holdsHorizon) {
      warn(
        `${eventsBehindHorizon} committed events wait behind transaction ${oldestTransaction.transactionId} ` +
          `(pid ${oldestTransaction.pid}, ${oldestTransaction.state}, open ${oldestTransaction.ageMs} ms): ${oldestTransaction.query}`,
      );
    }
    // #endregion diagnostics
    expect(warnings).toEqual([]);
  });

  it('errors to expect at start-up', async () => {
    const schema = db.schema('pglite');
    const store = await PostgresEventStore.create({ pglite: db.pglite }, { schema });
    try {
      // #region startup-errors
      try {
        await store.append('account-1', [{ type: 'Opened', data: {} }]);
      } catch (error) {
        if (isAnnalsError(error) && error.code === 'SCHEMA_NOT_MIGRATED')
          await store.migrate(); // not migrated yet
        else throw error; // e.g. TRANSACTION_IDS_REWOUND: restored into another cluster, see below
      }
      // #endregion startup-errors
      expect((await store.diagnostics()).lastCommittedPosition).toBeUndefined();
    } finally {
      await store.close();
    }
  });
});
