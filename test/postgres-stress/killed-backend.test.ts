import type { NewEvent } from '@annals/core';
import { notificationChannel, type PostgresEventStore } from '@annals/postgres';
import { toArray } from '@annals/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finalLog } from '../support/final-log.js';
import { EventCollector } from './support/event-collector.js';
import { compareWithLog } from './support/log-checks.js';
import { openStore } from './support/open-store.js';
import { storedEventIds, storedStreamRevision } from './support/raw-tables.js';
import { connectRaw, databaseUrl, dropSchema, qualified, sleep, withRaw } from './support/server.js';

const SCHEMA = 'annals_stress_kill';
const APP = 'annals-stress-kill';
const POOL_MAX = 3;
/** Bounds each wait only to catch a hang: a transaction open elsewhere on the shared server holds readers back meanwhile. */
const BOUND_MS = 60_000;

function batch(label: string, size: number): (NewEvent & { id: string })[] {
  return Array.from({ length: size }, (_, i) => ({
    id: crypto.randomUUID(),
    type: 'Deposited',
    data: { label, i },
  }));
}

/** Polls until `find` returns a value (bounded), or throws naming what was awaited. */
async function eventually<T>(what: string, find: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + BOUND_MS;
  for (;;) {
    const found = await find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await sleep(20);
  }
}

async function terminate(pid: number): Promise<void> {
  await withRaw(async (admin) => {
    const { rows } = await admin.query<{ ok: boolean }>('SELECT pg_terminate_backend($1) AS ok', [pid]);
    if (rows[0]?.ok !== true) throw new Error(`could not terminate backend ${pid}`);
  });
}

describe.skipIf(!databaseUrl)('PostgresEventStore: a backend killed mid-append', () => {
  let store: PostgresEventStore;
  let bystander: PostgresEventStore;
  let collector: EventCollector;
  const committedIds: string[] = [];

  beforeAll(async () => {
    await dropSchema(SCHEMA);
    store = await openStore(SCHEMA, { poolMax: POOL_MAX, applicationName: APP });
    bystander = await openStore(SCHEMA, { migrate: false, applicationName: `${APP}-bystander` });
    collector = new EventCollector('subscriber on the killed store', store.subscribeToAll());
    for (const stream of ['victim', 'victim-tx']) {
      const events = batch('setup', 2);
      committedIds.push(...events.map((e) => e.id));
      await store.append(stream, events, { expectedRevision: 'no_stream' });
    }
  });

  afterAll(async () => {
    await collector?.stop();
    await store?.close();
    await bystander?.close();
    await dropSchema(SCHEMA);
  });

  /** The batch is absent, the stream is at revision 1, and everything committed is there. */
  async function expectNothingPartial(label: string, stream: string, ids: readonly string[]): Promise<void> {
    expect(await storedEventIds(SCHEMA, ids), `${label}: events of the killed batch are stored`).toEqual([]);
    expect(
      await storedStreamRevision(SCHEMA, stream),
      `${label}: the revision of stream ${stream} moved`,
    ).toBe(1n);
    const stored = new Set(await storedEventIds(SCHEMA, committedIds));
    const lost = committedIds.filter((id) => !stored.has(id));
    expect(lost, `${label}: ${lost.length} committed events are missing after the kill`).toEqual([]);
  }

  /** More appends than the pool has connections all succeed: no dead connection is handed out again. */
  async function expectStoreRecovers(label: string, stream: string, retried: NewEvent[]): Promise<void> {
    const result = await store.append(stream, retried, { expectedRevision: 1n });
    expect(result.nextExpectedRevision, `${label}: the retried batch got other revisions`).toBe(
      BigInt(1 + retried.length),
    );
    committedIds.push(...retried.map((e) => e.id!));
    for (let i = 0; i < POOL_MAX + 1; i++) {
      const events = batch(`${label}-after`, 1);
      await store.append(`after-${stream}`, events);
      committedIds.push(...events.map((e) => e.id));
    }
    const read = await toArray(store.readStream(stream));
    expect(
      read.map((e) => e.revision),
      `${label}: stream ${stream} is not gapless after the retry`,
    ).toEqual(Array.from({ length: 2 + retried.length }, (_, i) => BigInt(i)));
  }

  it('an append blocked on its stream row and then terminated leaves nothing partial; the store recovers', async () => {
    const events = batch('killed', 5);
    // Another client locks the stream row, so the append waits inside its statement.
    const locker = await connectRaw();
    let append: Promise<unknown> | undefined;
    try {
      await locker.query('BEGIN');
      await locker.query(
        `SELECT 1 FROM ${qualified(SCHEMA, 'streams')} WHERE stream_id = 'victim' FOR UPDATE`,
      );
      const lockerPid = (await locker.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;

      append = store.append('victim', events, { expectedRevision: 1n });
      append.catch(() => {});
      const blocked = await eventually('the append to wait for the stream row lock', () =>
        withRaw(async (admin) => {
          const { rows } = await admin.query<{ pid: number; xid: string | null }>(
            'SELECT pid, backend_xid::text AS xid FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))',
            [lockerPid],
          );
          return rows[0];
        }),
      );
      // The append's transaction already holds a transaction id: readers of the log wait for it.
      expect(
        blocked.xid,
        'the blocked append has no transaction id yet: it is not mid-append',
      ).not.toBeNull();

      // Writers elsewhere go on committing while the append hangs.
      for (let i = 0; i < 3; i++) {
        const other = batch('bystander', 1);
        await bystander.append('bystander', other);
        committedIds.push(...other.map((e) => e.id));
      }

      await terminate(blocked.pid);
      await expect(append, 'the append of a terminated backend resolved').rejects.toBeDefined();
    } finally {
      await locker.query('ROLLBACK').catch(() => {});
      await locker.end();
    }
    await expectNothingPartial(
      'blocked append',
      'victim',
      events.map((e) => e.id),
    );
    await expectStoreRecovers('blocked append', 'victim', events);
  });

  it('an append whose transaction is still open when its backend is terminated leaves nothing partial', async () => {
    const events = batch('killed-in-tx', 4);
    const attempt = store.transaction(async (transaction) => {
      await store.append('victim-tx', events, { expectedRevision: 1n, transaction });
      const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(transaction);
      await terminate(rows[0]!.pid);
      // The commit that follows goes to a dead backend.
    });
    await expect(attempt, 'the transaction of a terminated backend committed').rejects.toBeDefined();
    await expectNothingPartial(
      'open transaction',
      'victim-tx',
      events.map((e) => e.id),
    );
    await expectStoreRecovers('open transaction', 'victim-tx', events);
  });

  it("terminating the store's LISTEN connection and idle pooled connections does not stop its subscriber", async () => {
    const listener = await eventually('the LISTEN connection of the store', () =>
      withRaw(async (admin) => {
        const { rows } = await admin.query<{ pid: number }>(
          'SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query = $2',
          [APP, `LISTEN "${notificationChannel(SCHEMA)}"`],
        );
        return rows[0]?.pid;
      }),
    );
    const idle = await withRaw(async (admin) => {
      const { rows } = await admin.query<{ pid: number }>(
        "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND state = 'idle' AND pid <> $2",
        [APP, listener],
      );
      return rows.map((r) => r.pid);
    });
    for (const pid of [listener, ...idle]) await terminate(pid);

    // Appended by another node: only NOTIFY (re-established) or polling can tell the subscriber.
    const events = batch('after-listener-kill', 3);
    const { lastPosition } = await bystander.append('after-kill', events);
    committedIds.push(...events.map((e) => e.id));
    const got = await collector.waitFor(
      (received) => received.some((e) => e.position === lastPosition),
      BOUND_MS,
    );
    expect(got, 'the subscriber stopped receiving after its LISTEN connection was terminated').toBe(true);

    await eventually('the store to listen again', () =>
      withRaw(async (admin) => {
        const { rows } = await admin.query<{ pid: number }>(
          'SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query = $2 AND pid <> $3',
          [APP, `LISTEN "${notificationChannel(SCHEMA)}"`, listener],
        );
        return rows[0]?.pid;
      }),
    );
    const next = batch('after-idle-kill', 1);
    await store.append('after-kill', next);
    committedIds.push(...next.map((e) => e.id));
  });

  it('the subscriber ends with every committed event exactly once, in the order of the final log', async () => {
    const log = await finalLog(store);
    const logIds = new Set(log.map((e) => e.id));
    expect(
      committedIds.filter((id) => !logIds.has(id)),
      'committed events are missing from the log',
    ).toEqual([]);
    expect(log.length, 'the log holds events nobody committed').toBe(committedIds.length);
    await collector.waitFor((events) => events.length >= log.length, BOUND_MS);
    expect(collector.error, 'the subscription ended with an error').toBeUndefined();
    expect(compareWithLog(collector.name, collector.events, log)).toEqual([]);
  });
});
