import type { ChildProcess } from 'node:child_process';
import { type PostgresEventStore, TenantRouter } from '@annals/postgres';
import { toArray } from '@annals/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChildOutcome, outcomeOf, spawnTsx } from '../support/spawn-tsx.js';
import { waitFor } from '../support/wait-for.js';
import { ScaleCluster } from './clusters.js';
import { createReadModel, openDatabases } from './fixtures/scale-app.js';

/**
 * Tenants over three PostgreSQL clusters of the test's own, six application nodes (child processes)
 * appending to every tenant and running each tenant's projection under leases. The cluster holding
 * the directory is stopped hard: only its tenants fail, each failure typed (StoreUnavailable), while
 * the others keep taking writes; when it returns its tenants recover. At the end every tenant's log
 * holds exactly the events the nodes were told were stored (none lost, none twice, revisions
 * gapless) and every read model applied each of them exactly once.
 */

const NODES = 6;
const TENANTS = ['t1', 't2', 't3', 't4', 't5', 't6', 't7', 't8', 't9'];
const clusters: ScaleCluster[] = [];
const children: { node: string; child: ChildProcess; outcome: Promise<ChildOutcome> }[] = [];
let databases: Record<string, PostgresEventStore> = {};

interface Line {
  readonly ack?: string;
  readonly id?: string;
  readonly error?: string;
  readonly code?: string | null;
  readonly message?: string;
  readonly ready?: string;
  readonly writersStopped?: string;
}
const acks = new Map<string, string[]>(TENANTS.map((t) => [t, []]));
const errors: { tenant: string; code: string | null; message: string; at: number }[] = [];
const ready = new Set<string>();
const writersStopped = new Set<string>();

function onLine(line: string): void {
  if (!line.startsWith('{')) return;
  const parsed = JSON.parse(line) as Line;
  if (parsed.ack !== undefined) acks.get(parsed.ack)!.push(parsed.id!);
  if (parsed.error !== undefined)
    errors.push({
      tenant: parsed.error,
      code: parsed.code ?? null,
      message: parsed.message ?? '',
      at: Date.now(),
    });
  if (parsed.ready !== undefined) ready.add(parsed.ready);
  if (parsed.writersStopped !== undefined) writersStopped.add(parsed.writersStopped);
}

const ackCount = (tenants: readonly string[]) =>
  Object.fromEntries(tenants.map((t) => [t, acks.get(t)!.length]));

beforeAll(async () => {
  for (let i = 0; i < 3; i++) clusters.push(await ScaleCluster.create(i));
  const urls = Object.fromEntries(clusters.map((c, i) => [`db${i + 1}`, c.url]));
  databases = await openDatabases(urls, 4);
  for (const store of Object.values(databases)) await store.migrate();
  const router = await TenantRouter.open({ databases, directory: 'db1', placement: 'least-loaded' });
  for (const tenant of TENANTS) {
    await router.createTenant(tenant);
    await createReadModel(router, tenant);
  }
  for (let i = 1; i <= NODES; i++) {
    const node = `node${i}`;
    const child = spawnTsx('test/scale/fixtures/app-node.ts', [], {
      SCALE_NODE: JSON.stringify({ node, urls, tenants: TENANTS }),
    });
    children.push({ node, child, outcome: outcomeOf(child, onLine) });
  }
}, 300_000);

afterAll(async () => {
  for (const { child } of children) if (child.exitCode === null) child.kill('SIGKILL');
  for (const store of Object.values(databases)) await store.close().catch(() => {});
  for (const cluster of clusters) await cluster.drop();
}, 300_000);

describe('tenants over three PostgreSQL clusters, six application nodes', () => {
  it('a stopped cluster fails only its tenants, with StoreUnavailable; they recover; nothing is lost or doubled', async () => {
    await waitFor(() => ready.size === NODES, 'every node to start', { boundMs: 240_000, intervalMs: 100 });
    await waitFor(() => TENANTS.every((t) => acks.get(t)!.length >= 20), 'writes to every tenant', {
      boundMs: 120_000,
      intervalMs: 100,
    });
    expect(errors, 'no failure while every cluster is up').toEqual([]);

    const router = await TenantRouter.open({ databases, directory: 'db1' });
    const down = router.tenantsOn('db1');
    const up = TENANTS.filter((t) => !down.includes(t));
    expect(down.length).toBe(3); // least-loaded: three tenants per cluster

    await clusters[0]!.stop();
    const stoppedAt = Date.now();
    const before = ackCount(TENANTS);
    // The other tenants keep taking writes; the stopped cluster's tenants fail, typed.
    await waitFor(
      () =>
        up.every((t) => acks.get(t)!.length >= before[t]! + 20) &&
        down.every((t) => errors.some((e) => e.tenant === t && e.at >= stoppedAt)),
      'writes to the other clusters and failures on the stopped one',
      { boundMs: 120_000, intervalMs: 100 },
    );
    const during = ackCount(down);
    expect(
      errors.filter((e) => up.includes(e.tenant)),
      'failures of tenants on clusters that stayed up',
    ).toEqual([]);
    for (const e of errors) expect(e.code, `a typed error, found: ${e.message}`).toBe('STORE_UNAVAILABLE');
    // At most the appends in flight at the stop were acknowledged after it.
    for (const t of down) expect(during[t]! - before[t]!).toBeLessThanOrEqual(NODES);

    await clusters[0]!.start();
    await waitFor(
      () => down.every((t) => acks.get(t)!.length >= during[t]! + 20),
      'the stopped cluster’s tenants to recover',
      {
        boundMs: 180_000,
        intervalMs: 100,
      },
    );

    for (const { child } of children) child.kill('SIGUSR1');
    await waitFor(() => writersStopped.size === NODES, 'every node to stop writing', {
      boundMs: 120_000,
      intervalMs: 100,
    });

    for (const tenant of TENANTS) {
      const store = await router.tenant(tenant);
      // Readers of the global log see an event once no older transaction is open in the cluster (a
      // projection's, say): read until the acknowledged count is readable.
      let log = await toArray(store.readAll());
      await waitFor(
        async () => (log = await toArray(store.readAll())).length >= acks.get(tenant)!.length,
        `${tenant}: every acknowledged event to be readable`,
        { boundMs: 120_000, intervalMs: 200 },
      );
      const ids = log.map((e) => e.id);
      expect(new Set(ids).size, `${tenant}: no event twice`).toBe(ids.length);
      expect([...ids].sort(), `${tenant}: exactly the acknowledged events`).toEqual(
        [...acks.get(tenant)!].sort(),
      );
      const revisions = new Map<string, bigint>();
      for (const e of log) {
        expect(e.revision, `${tenant}: ${e.streamId} gapless`).toBe(revisions.get(e.streamId) ?? 0n);
        revisions.set(e.streamId, e.revision + 1n);
      }
      const seen = sql.id(store.schema, 'seen');
      await waitFor(
        async () =>
          (await sql<{ n: number }>`select count(*)::int as n from ${seen}`.execute(store.kysely)).rows[0]!
            .n >= ids.length,
        `${tenant}: the read model to catch up`,
        { boundMs: 180_000, intervalMs: 200 },
      );
      const rows = (
        await sql<{ id: string; times: number }>`select id, times from ${seen}`.execute(store.kysely)
      ).rows;
      expect(rows.map((r) => r.id).sort(), `${tenant}: the read model holds every event`).toEqual(
        [...ids].sort(),
      );
      expect(
        rows.filter((r) => r.times !== 1),
        `${tenant}: each event applied once`,
      ).toEqual([]);
    }

    for (const { child } of children) child.kill('SIGTERM');
    for (const { node, outcome } of children) {
      const result = await outcome;
      expect(result.code, `${node} exits cleanly: ${result.stderr.slice(-2000)}`).toBe(0);
    }
  });
});
