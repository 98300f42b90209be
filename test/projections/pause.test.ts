import { defineProjection } from '@annals/core';
import {
  PostgresEventStore,
  type PostgresProjectionContext,
  PostgresProjectionRunner,
} from '@annals/postgres';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Deposited } from './fixtures/events.js';
import { waitFor } from './support/runner-processes.js';

// Two runners on two stores (two nodes, each with its own pool) against the server: a pause made
// through one is seen by both, and once resumed the read model holds every event exactly once.
const url = process.env.DATABASE_URL;
const LEASE_TTL_MS = 1500;

describe.skipIf(!url)('pausing a projection on a server, across two nodes', () => {
  const schema = `proj_pause_${process.pid}`;
  const stores: PostgresEventStore[] = [];
  const applied = sql.id(schema, 'pause_applied');
  const witnessed = sql.id(schema, 'pause_witnessed');

  beforeAll(async () => {
    for (let i = 0; i < 2; i++) {
      const store = await PostgresEventStore.create(
        { connectionString: url!, pool: { max: 4 } },
        { schema, events: [Deposited] },
      );
      stores.push(store);
    }
    await stores[0]!.migrate();
    await sql`create table ${applied} (event_id uuid primary key, times integer not null)`.execute(
      stores[0]!.kysely,
    );
    await sql`create table ${witnessed} (event_id uuid primary key)`.execute(stores[0]!.kysely);
  });
  afterAll(async () => {
    for (const store of stores) await store.close();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(`drop schema if exists ${pg.escapeIdentifier(schema)} cascade`);
    await client.end();
  });

  const balances = defineProjection({
    name: 'balances',
    events: [Deposited],
    batchSize: 4,
    handlers: {
      Deposited: async (e, { tx }: PostgresProjectionContext) => {
        await sql`insert into ${applied} (event_id, times) values (${e.id}, 1)
          on conflict (event_id) do update set times = ${applied}.times + 1`.execute(tx);
      },
    },
  });
  const witness = defineProjection({
    name: 'witness',
    events: [Deposited],
    handlers: {
      Deposited: async (e, { tx }: PostgresProjectionContext) => {
        await sql`insert into ${witnessed} (event_id) values (${e.id})`.execute(tx);
      },
    },
  });

  const deposit = async (n: number) => {
    for (let i = 0; i < n; i++)
      await stores[0]!.append(`account-${i % 5}`, [Deposited.create({ accountId: `${i % 5}`, amount: 1 })]);
  };
  const checkpoint = async () =>
    (
      await sql<{ position: string }>`select position::text from ${sql.id(schema, 'checkpoints')}
        where name = 'balances'`.execute(stores[0]!.kysely)
    ).rows[0]?.position;
  const appliedRows = async () =>
    (
      await sql<{ event_id: string; times: number }>`select event_id, times from ${applied}`.execute(
        stores[0]!.kysely,
      )
    ).rows;

  it('pause on one handle stops both runners; resumed, every event is applied exactly once', {
    timeout: 120_000,
  }, async () => {
    const [a, b] = stores.map(
      (store, i) =>
        new PostgresProjectionRunner({
          store,
          projections: [balances, witness],
          owner: `node-${i + 1}`,
          leaseTtlMs: LEASE_TTL_MS,
          logger: { warn: () => {}, error: (message) => console.error(message) },
        }),
    ) as [PostgresProjectionRunner, PostgresProjectionRunner];
    try {
      await deposit(20);
      await a.start();
      await b.start();
      await a.waitUntilCaughtUp();
      await b.pause('balances');
      await waitFor(
        () => a.status('balances')?.state === 'paused' && b.status('balances')?.state === 'paused',
        'both runners to report balances paused',
      );
      const pausedAt = await checkpoint();
      const before = (await appliedRows()).length;

      await deposit(20);
      // The witness follows the same events on the same runners: once it has them all, a runner
      // that ignored the pause would have had the time to apply them too.
      await a.waitUntilCaughtUp('witness');
      await b.waitUntilCaughtUp('witness');
      expect(await checkpoint(), 'the checkpoint of the paused projection').toBe(pausedAt);
      expect((await appliedRows()).length, 'events applied while paused').toBe(before);
      expect([a.status('balances')?.state, b.status('balances')?.state]).toEqual(['paused', 'paused']);
      const lease = await sql`select 1 from ${sql.id(schema, 'projection_leases')}
        where key = 'balances' and expires_at > clock_timestamp()`.execute(stores[0]!.kysely);
      expect(lease.rows, 'no runner holds the lease of a paused projection').toEqual([]);

      await a.resume('balances');
      await a.waitUntilCaughtUp('balances');
      await b.waitUntilCaughtUp('balances');
      const rows = await appliedRows();
      expect(rows).toHaveLength(40);
      expect(
        rows.filter((r) => r.times !== 1),
        'events applied more than once',
      ).toEqual([]);
    } finally {
      await a.stop();
      await b.stop();
    }
  });
});
