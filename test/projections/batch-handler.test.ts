import { defineProjection, ProjectionFailed } from '@annals/core';
import {
  PostgresEventStore,
  type PostgresProjectionContext,
  PostgresProjectionRunner,
} from '@annals/postgres';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Deposited } from './fixtures/events.js';

const url = process.env.DATABASE_URL;
const silent = { warn: () => {}, error: () => {} };

/**
 * A batch handler on a PostgreSQL server, with the runner's defaults there (leases, the checkpoint's
 * compare-and-swap on the lease owner): set-based writes, and a poison event found inside a batch.
 */
describe.skipIf(!url)('batch handlers on a server', () => {
  const schema = `proj_batch_${process.pid}`;
  let store: PostgresEventStore;
  const balances = sql.id(schema, 'balances');
  const applied = sql.id(schema, 'applied');

  beforeAll(async () => {
    store = await PostgresEventStore.create({ connectionString: url! }, { schema, events: [Deposited] });
    await store.migrate();
    await sql`create table ${balances} (account_id text primary key, balance bigint not null)`.execute(
      store.kysely,
    );
    await sql`create table ${applied} (event_id uuid primary key, times integer not null)`.execute(
      store.kysely,
    );
  });
  afterAll(async () => {
    if (store === undefined) return;
    await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(store.kysely);
    await store.close();
  });

  /** One projection over the read model: two set-based statements per batch. */
  const projection = (
    name: string,
    options: { poison?: string; onExhausted?: 'stop' | 'dead-letter' } = {},
  ) => {
    const calls: number[] = [];
    const definition = defineProjection({
      name,
      events: [Deposited],
      failure: {
        retries: 1,
        backoff: { initialDelayMs: 1, maxDelayMs: 5 },
        onExhausted: options.onExhausted ?? 'stop',
      },
      reset: async ({ tx }: PostgresProjectionContext) => {
        await sql`truncate ${balances}, ${applied}`.execute(tx);
      },
      handleBatch: async (events, { tx }: PostgresProjectionContext) => {
        calls.push(events.length);
        await sql`insert into ${balances} as b (account_id, balance)
          select a, sum(n) from unnest(${events.map((e) => e.data.accountId)}::text[], ${events.map((e) => e.data.amount)}::bigint[]) as u(a, n)
          group by a
          on conflict (account_id) do update set balance = b.balance + excluded.balance`.execute(tx);
        await sql`insert into ${applied} as t (event_id, times)
          select id, 1 from unnest(${events.map((e) => e.id)}::uuid[]) as u(id)
          on conflict (event_id) do update set times = t.times + 1`.execute(tx);
        if (options.poison !== undefined && events.some((e) => e.data.accountId === options.poison)) {
          throw new RangeError(`cannot apply ${options.poison}`);
        }
      },
    });
    return { definition, calls };
  };

  const readModel = async () => {
    const { rows } = await sql<{ n: number; max: number; total: string }>`
      select count(*)::int as n, coalesce(max(times), 0)::int as max,
        (select coalesce(sum(balance), 0)::text from ${balances}) as total
      from ${applied}`.execute(store.kysely);
    return { applied: rows[0]!.n, maxTimes: rows[0]!.max, total: Number(rows[0]!.total) };
  };

  const checkpoint = async (name: string) => {
    const { rows } = await sql<{ p: string }>`
      select position::text as p from ${sql.id(schema, 'checkpoints')} where name = ${name}`.execute(
      store.kysely,
    );
    return rows[0] === undefined ? undefined : BigInt(rows[0].p);
  };

  it('catches up in batches, stops on a poison event inside a batch, then resumes from it once fixed', {
    timeout: 60_000,
  }, async () => {
    for (let i = 0; i < 1200; i += 100) {
      await store.append(
        `account-${i / 100}`,
        Array.from({ length: 100 }, (_, n) =>
          Deposited.create({ accountId: i + n === 777 ? 'poison' : `${(i + n) % 37}`, amount: 1 }),
        ),
      );
    }
    const positions: bigint[] = [];
    for await (const e of store.readAll()) positions.push(e.position);
    const poisonPosition = positions[777]!;

    const failing = projection('balances', { poison: 'poison' });
    const runner = new PostgresProjectionRunner({
      store,
      projections: [failing.definition],
      batchSize: 500,
      logger: silent,
    });
    await runner.start();
    const error = await runner.waitUntilCaughtUp().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProjectionFailed);
    expect((error as ProjectionFailed).event?.position).toBe(poisonPosition);
    // The first batch committed whole; the second failed twice whole, then went event by event.
    expect(failing.calls.slice(0, 3)).toEqual([500, 500, 500]);
    expect(failing.calls.slice(3).every((n) => n === 1)).toBe(true);
    const status = runner.status('balances')!;
    expect(status.state).toBe('failed');
    expect(status.position).toBe(positions[776]);
    expect(await checkpoint('balances')).toBe(positions[776]);
    expect(await readModel()).toEqual({ applied: 777, maxTimes: 1, total: 777 });
    await runner.stop();

    // Fixed: a new runner resumes from the checkpoint, at the poison event, in batches again.
    const fixed = projection('balances');
    const second = new PostgresProjectionRunner({
      store,
      projections: [fixed.definition],
      batchSize: 500,
      logger: silent,
    });
    await second.start();
    await second.waitUntilCaughtUp();
    await second.stop();
    expect(fixed.calls).toEqual([423]);
    expect(await readModel()).toEqual({ applied: 1200, maxTimes: 1, total: 1200 });
    expect(await checkpoint('balances')).toBe(positions.at(-1));
  });

  it('dead-letters the poison event of a batch, in the transaction that moves past it', {
    timeout: 60_000,
  }, async () => {
    const tolerant = projection('balances-tolerant', { poison: 'poison', onExhausted: 'dead-letter' });
    const runner = new PostgresProjectionRunner({
      store,
      projections: [tolerant.definition],
      batchSize: 500,
      logger: silent,
    });
    await runner.rebuild('balances-tolerant');
    expect(await readModel()).toEqual({ applied: 1199, maxTimes: 1, total: 1199 });
    const letters = await runner.deadLetters.list('balances-tolerant');
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ key: 'balances-tolerant', error: 'RangeError: cannot apply poison' });
    expect(runner.status('balances-tolerant')).toMatchObject({ deadLettered: 1 });
    await runner.stop();
  });
});
