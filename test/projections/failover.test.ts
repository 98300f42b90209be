import { PostgresEventStore } from '@annals/postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Deposited } from './fixtures/events.js';
import { RunnerProcess, TestDatabase, waitFor } from './support/runner-processes.js';

const url = process.env.DATABASE_URL;
const LEASE_TTL_MS = 1500;
const SHARDS = ['sharded[0/4]', 'sharded[1/4]', 'sharded[2/4]', 'sharded[3/4]'];
const KEYS = ['counter-a', 'counter-b', ...SHARDS];

describe.skipIf(!url)('several runner processes against one server', () => {
  const schema = `proj_failover_${process.pid}`;
  let db: TestDatabase;
  let store: PostgresEventStore;
  const processes: RunnerProcess[] = [];

  beforeAll(async () => {
    db = new TestDatabase(url!, schema);
    await db.open();
    store = await PostgresEventStore.create({ connectionString: url! }, { schema, events: [Deposited] });
    await store.migrate();
    await db.createReadModel();
  });
  afterAll(async () => {
    for (const p of processes) p.kill('SIGKILL');
    await Promise.all(processes.map((p) => p.exited));
    await store?.close();
    await db?.close();
  });

  /** Which live processes report each key as active. */
  const holders = (live: readonly RunnerProcess[]) =>
    Object.fromEntries(
      KEYS.map((key) => [key, live.filter((p) => p.active().includes(key)).map((p) => p.owner)]),
    );

  it('runs each projection (and shard) on exactly one process; a killed one is taken over from its checkpoint', {
    timeout: 120_000,
  }, async () => {
    for (let i = 0; i < 60; i++)
      await store.append(`account-${i % 12}`, [Deposited.create({ accountId: `${i % 12}`, amount: 1 })]);
    const env = {
      DATABASE_URL: url!,
      SCHEMA: schema,
      PROJECTIONS: 'counter-a,counter-b,sharded',
      LEASE_TTL_MS: String(LEASE_TTL_MS),
    };
    const start = (owner: string) => {
      const p = new RunnerProcess(owner, env);
      processes.push(p);
      return p;
    };
    let live = [start('node-1'), start('node-2'), start('node-3')];

    // Each key ends up active on exactly one process; the shards are spread over all three.
    await waitFor(
      () => KEYS.every((key) => holders(live)[key]!.length === 1),
      'every key active on exactly one process',
    );
    await waitFor(
      () => live.every((p) => p.active().some((k) => k.startsWith('sharded'))),
      'every process holding a shard',
    );
    // The lease table and the processes' reports agree. The reports are the latest status line of
    // each process, so they lag the table by up to one status interval (more on a loaded machine,
    // where leases of 1.5 s may also move meanwhile): wait for them to agree, then name any key
    // where they do not.
    const disagreements = async () => {
      const found: string[] = [];
      for (const key of KEYS) {
        const owner = await db.leaseOwner(key);
        const reported = holders(live)[key]!;
        if (reported.length !== 1 || reported[0] !== owner)
          found.push(`${key}: lease held by ${owner ?? 'nobody'}, active on [${reported.join(', ')}]`);
      }
      return found;
    };
    await waitFor(
      async () => (await disagreements()).length === 0,
      'the leases and the reports to agree',
    ).catch(() => {});
    expect(await disagreements(), 'lease owners differ from the processes reporting the key active').toEqual(
      [],
    );

    // Keep appending while the active process of counter-a dies.
    let appending = true;
    const appender = (async () => {
      let n = 0;
      while (appending) {
        await store.append(`account-${n % 12}`, [Deposited.create({ accountId: `${n % 12}`, amount: 1 })]);
        n++;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    const victim = live.find((p) => p.active().includes('counter-a'))!;
    const checkpointAtKill = (await db.checkpoint('counter-a')) ?? 0n;
    victim.kill('SIGKILL');
    const killedAt = Date.now();
    await victim.exited;
    live = live.filter((p) => p !== victim);

    await waitFor(async () => {
      const owner = await db.leaseOwner('counter-a');
      return (
        owner !== undefined &&
        owner !== victim.owner &&
        ((await db.checkpoint('counter-a')) ?? 0n) > checkpointAtKill
      );
    }, 'another process to take counter-a over and move its checkpoint');
    // Liveness is what the wait above asserts. How long it took is reported, never asserted: on a
    // loaded machine a process's poll can come many lease periods late.
    const takeoverMs = Date.now() - killedAt;
    process.stdout.write(`counter-a taken over ${takeoverMs} ms after SIGKILL (lease ${LEASE_TTL_MS} ms)\n`);

    // The victim's shards move to the survivors; then a new process joins and gets shards again.
    await waitFor(
      () => KEYS.every((key) => holders(live)[key]!.length === 1),
      'the survivors to hold every key',
    );
    const joined = start('node-4');
    live = [...live, joined];
    await waitFor(
      () => joined.active().some((k) => k.startsWith('sharded')),
      'the new process to get a shard',
    );
    await waitFor(
      () => KEYS.every((key) => holders(live)[key]!.length === 1),
      'every key on exactly one process again',
    );

    appending = false;
    await appender;
    const total = await db.deposits();
    for (const projection of ['counter-a', 'counter-b', 'sharded']) {
      await waitFor(async () => (await db.applied(projection)).events === total, `${projection} to catch up`);
      expect(await db.applied(projection)).toEqual({ events: total, maxTimes: 1 });
    }
    for (const p of live) p.kill('SIGTERM');
    expect(await Promise.all(live.map((p) => p.exited))).toEqual(live.map(() => 0));
  });
});
