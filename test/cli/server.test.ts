import { defineProjection } from '@annals/core';
import {
  PostgresEventStore,
  PostgresLeaseStore,
  type PostgresProjectionContext,
  PostgresProjectionRunner,
} from '@annals/postgres';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/wait-for.js';
import { databaseUrl, fixtureConfig, jsonLines, RunningCli, runCli, serverSchema } from './support/cli.js';
import { seedLog } from './support/seed.js';

// The annals command against the PostgreSQL server (DATABASE_URL), in schemas of this file's own.
const schemas: ReturnType<typeof serverSchema>[] = [];
afterAll(async () => {
  for (const schema of schemas) await schema.drop();
});

/** A fresh schema, migrated through the command. */
async function migratedSchema(): Promise<string> {
  const schema = serverSchema();
  schemas.push(schema);
  const result = await runCli(['--schema', schema.name, 'migrate'], { env: { DATABASE_URL: databaseUrl } });
  expect(result.code, result.stderr).toBe(0);
  return schema.name;
}

// Each test spawns processes that each start Node and tsx: seconds apiece on a loaded machine.
describe.skipIf(databaseUrl === undefined)('annals on a server', { timeout: 600_000 }, () => {
  const env = () => ({ DATABASE_URL: databaseUrl });

  it('tail: prints matching events as they are appended, one JSON object per line, until Ctrl-C', async () => {
    const schema = await migratedSchema();
    const store = await PostgresEventStore.create({ connectionString: databaseUrl! }, { schema });
    const tail = new RunningCli(['--schema', schema, 'tail', '--prefix', 'cart-', '--json'], { env: env() });
    try {
      await tail.waitFor('it is tailing', (cli) => cli.stderr.includes('tailing'));
      await store.append('order-9', [{ type: 'OrderPlaced', data: { total: 12 } }]);
      await store.append('cart-7', [
        { type: 'CartOpened', data: { owner: 'ada' }, metadata: { source: 'test' } },
      ]);
      await tail.waitFor('the cart-7 event is printed', (cli) => cli.stdout.includes('cart-7'));
      // order-9 came first: had the prefix not filtered it out, it would be printed before cart-7.
      expect(jsonLines(tail.stdout).map((e) => [e.streamId, e.revision, e.type, e.data, e.metadata])).toEqual(
        [['cart-7', '0', 'CartOpened', { owner: 'ada' }, { source: 'test' }]],
      );
      tail.child.kill('SIGINT');
      expect(await tail.exited).toBe(0);
    } finally {
      tail.child.kill('SIGKILL');
      await store.close();
    }
  });

  it('status: names the transaction that holds the horizon, and the owner and expiry of a lease', async () => {
    const schema = await migratedSchema();
    await seedLog({ connectionString: databaseUrl! }, schema);
    const store = await PostgresEventStore.create({ connectionString: databaseUrl! }, { schema });
    const holder = new pg.Client({ connectionString: databaseUrl, application_name: 'cli-test-holder' });
    await holder.connect();
    try {
      expect(await new PostgresLeaseStore(store).acquire('item-counts', 'node-a', 120_000)).toBe(true);
      await holder.query('begin');
      const pid = (await holder.query('select pg_backend_pid() as pid, pg_current_xact_id()')).rows[0].pid;
      const result = await runCli(['--config', fixtureConfig, 'status', '--json'], {
        env: { ...env(), ANNALS_SCHEMA: schema },
      });
      expect(result.code, result.stderr).toBe(0);
      const status = JSON.parse(result.stdout);
      const open = status.log.openTransactions.find((t: { pid: number }) => t.pid === pid);
      expect(open).toMatchObject({ applicationName: 'cli-test-holder' });
      const counts = status.projections.find((p: { key: string }) => p.key === 'item-counts');
      expect(counts).toMatchObject({ state: 'leased', owner: 'node-a', position: '0', lagEvents: 5 });
      const text = await runCli(['--config', fixtureConfig, 'status'], {
        env: { ...env(), ANNALS_SCHEMA: schema },
      });
      expect(text.stdout).toMatch(/^item-counts\s+leased\s+0\s+5\s+\S+\s+node-a\s+\S+\s+0$/m);
      expect(text.stdout).toMatch(/^(held by|open)\s+pid \d+/m);
    } finally {
      await holder.query('rollback').catch(() => {});
      await holder.end();
      await store.close();
    }
  });

  it('projections pause --wait: a running node stops and lets go of the lease; status shows it; resume: it goes on', async () => {
    const schema = await migratedSchema();
    const store = await PostgresEventStore.create({ connectionString: databaseUrl! }, { schema });
    const applied = new Map<string, number>();
    // A node running item-counts in this process: it counts applications per event id.
    const node = new PostgresProjectionRunner({
      store,
      owner: 'node-a',
      leaseTtlMs: 1500,
      logger: { warn: () => {}, error: () => {} },
      projections: [
        defineProjection({
          name: 'item-counts',
          handlers: {
            ItemAdded: (e, _context: PostgresProjectionContext) =>
              void applied.set(e.id, (applied.get(e.id) ?? 0) + 1),
          },
        }),
      ],
    });
    const add = async (n: number) => {
      for (let i = 0; i < n; i++)
        await store.append(`cart-${i}`, [
          { type: 'ItemAdded', schemaVersion: 2, data: { sku: 's', quantity: 1 } },
        ]);
    };
    const cli = (args: string[]) =>
      runCli(['--config', fixtureConfig, ...args], { env: { ...env(), ANNALS_SCHEMA: schema } });
    try {
      await add(5);
      await node.start();
      await node.waitUntilCaughtUp();
      const pause = await cli(['projections', 'pause', 'item-counts', '--wait']);
      expect(pause.code, pause.stderr).toBe(0);
      expect(pause.stdout).toMatch(/^paused item-counts: no runner holds it now/);
      // --wait returned once the lease was let go: the node saw the pause.
      expect(await new PostgresLeaseStore(store).get('item-counts')).toBeUndefined();
      await waitUntil(
        'the node reports item-counts paused',
        async () => node.status('item-counts')?.state === 'paused',
      );
      const status = JSON.parse((await cli(['status', '--json'])).stdout);
      expect(status.projections.find((p: { key: string }) => p.key === 'item-counts')).toMatchObject({
        state: 'paused',
        position: expect.any(String),
      });

      await add(5);
      const paused = node.status('item-counts')!.position;
      const resume = await cli(['projections', 'resume', 'item-counts']);
      expect(resume.code, resume.stderr).toBe(0);
      await node.waitUntilCaughtUp('item-counts');
      expect(node.status('item-counts')!.position).toBeGreaterThan(paused);
      expect(applied.size).toBe(10);
      expect(
        [...applied.values()].every((times) => times === 1),
        'each event applied once',
      ).toBe(true);
    } finally {
      await node.stop();
      await store.close();
    }
  });

  it('projections rebuild: Ctrl-C stops it cleanly and says at which position it stopped', async () => {
    const schema = await migratedSchema();
    const store = await PostgresEventStore.create({ connectionString: databaseUrl! }, { schema });
    for (let i = 0; i < 40; i++) {
      await store.append(`cart-${i}`, [
        { type: 'ItemAdded', schemaVersion: 2, data: { sku: 's', quantity: 1 } },
      ]);
    }
    const checkpoint = async () =>
      (
        await sql<{ name: string; position: string }>`select name, position::text as position
          from ${sql.id(schema, 'checkpoints')}`.execute(store.kysely)
      ).rows;
    const rebuild = new RunningCli(['--config', fixtureConfig, 'projections', 'rebuild', 'item-counts'], {
      env: { ...env(), ANNALS_SCHEMA: schema, CLI_HOLD_AFTER: '5' },
    });
    try {
      // Wait until a batch has committed: the checkpoint has moved past zero.
      await waitUntil('the rebuild committed a batch', async () =>
        (await checkpoint()).some((c) => c.name === 'item-counts' && BigInt(c.position) > 0n),
      );
      rebuild.child.kill('SIGINT');
      expect(await rebuild.exited).toBe(130);
      const [saved] = (await checkpoint()).filter((c) => c.name === 'item-counts');
      const stopped = /^stopped item-counts at position (\d+), (\d+) event\(s\) still to apply/m.exec(
        rebuild.stdout,
      );
      expect(stopped, rebuild.stdout + rebuild.stderr).not.toBeNull();
      expect(stopped![1]).toBe(saved!.position);
      expect(Number(stopped![2])).toBeGreaterThan(0);
    } finally {
      rebuild.child.kill('SIGKILL');
      await store.close();
    }
  });
});

/** Polls `condition` until it holds; the bound (five minutes: spawned processes) only stops a hang. */
function waitUntil(what: string, condition: () => Promise<boolean>): Promise<void> {
  return waitFor(condition, what, { boundMs: 300_000, intervalMs: 50 });
}
