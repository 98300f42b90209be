import type { PostgresDiagnostics, PostgresEventStore } from '@annals/postgres';
import { toArray } from '@annals/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventCollector } from './support/event-collector.js';
import { openStore } from './support/open-store.js';
import { connectRaw, databaseUrl, dropSchema, sleep } from './support/server.js';

const SCHEMA = 'annals_stress_long_tx';
/** Bounds each wait only to catch a hang: a transaction open elsewhere on the shared server holds readers back meanwhile. */
const BOUND_MS = 60_000;
/** How long the test watches a stalled subscriber for an event it must not deliver yet. */
const STALL_WATCH_MS = 1500;

describe.skipIf(!databaseUrl)('PostgresEventStore: a long open transaction', () => {
  let store: PostgresEventStore;
  let other: PostgresEventStore;
  const collectors: EventCollector[] = [];

  beforeAll(async () => {
    await dropSchema(SCHEMA);
    store = await openStore(SCHEMA);
    other = await openStore(SCHEMA, { migrate: false });
    collectors.push(new EventCollector('subscriber on the writing store', store.subscribeToAll()));
    collectors.push(new EventCollector('subscriber on another store', other.subscribeToAll()));
  });

  afterAll(async () => {
    await Promise.all(collectors.map((c) => c.stop()));
    await store?.close();
    await other?.close();
    await dropSchema(SCHEMA);
  });

  it('holds readers back while it is open, is named by diagnostics(), and releases them when it ends', async () => {
    const before = await store.append('before', [{ type: 'Before', data: {} }]);
    for (const c of collectors) {
      const got = await c.waitFor(
        (events) => events.some((e) => e.position === before.firstPosition),
        BOUND_MS,
      );
      expect(got, `${c.name} did not receive an event appended before the long transaction`).toBe(true);
    }

    // Another application's transaction takes a transaction id and stays open.
    const holder = await connectRaw();
    let ended = false;
    try {
      await holder.query('BEGIN');
      const { rows } = await holder.query<{ xid: string; pid: number }>(
        'SELECT pg_current_xact_id()::text AS xid, pg_backend_pid() AS pid',
      );
      const xid = BigInt(rows[0]!.xid);
      const pid = rows[0]!.pid;

      const during = await store.append('during', [{ type: 'During', data: {} }]);
      expect(
        during.firstPosition > xid << 20n,
        'an append after the open transaction got a lower position',
      ).toBe(true);

      const visible = await toArray(store.readAll({ fromPosition: during.firstPosition }));
      expect(
        visible.map((e) => e.position),
        'readAll returned an event committed after a still-open transaction took its id',
      ).toEqual([]);
      await sleep(STALL_WATCH_MS);
      for (const c of collectors) {
        expect(
          c.events.filter((e) => e.position >= during.firstPosition).map((e) => e.position),
          `${c.name} received an event above the horizon of an open transaction`,
        ).toEqual([]);
      }

      // Named by diagnostics: the oldest transaction in the cluster (another one, older, may
      // still be running elsewhere on the server; then ours is named once that one ends).
      let diagnostics: PostgresDiagnostics | undefined;
      const deadline = Date.now() + BOUND_MS;
      do {
        diagnostics = await other.diagnostics();
        if (diagnostics.oldestTransaction?.pid === pid) break;
        await sleep(100);
      } while (Date.now() < deadline);
      const named = diagnostics.oldestTransaction;
      const shown =
        named === undefined
          ? 'no transaction'
          : `backend ${named.pid} (${named.applicationName}, ${named.state}: ${named.query})`;
      expect(named?.pid, `diagnostics() named ${shown} instead of backend ${pid}`).toBe(pid);
      expect(named?.transactionId, 'diagnostics() gives the open transaction another id').toBe(xid);
      expect(named?.holdsHorizon, 'diagnostics() does not say the open transaction holds the horizon').toBe(
        true,
      );
      expect(named?.state, 'diagnostics() gives another state').toBe('idle in transaction');
      expect(named!.ageMs, 'diagnostics() gives an age shorter than the watch above').toBeGreaterThanOrEqual(
        STALL_WATCH_MS,
      );
      expect(diagnostics.oldestRunningTransactionId, 'the horizon is not at the open transaction').toBe(xid);
      expect(diagnostics.horizon, 'the horizon position is not xid << 20').toBe(xid << 20n);
      expect(
        diagnostics.eventsBehindHorizon,
        'diagnostics() counts no event behind the horizon',
      ).toBeGreaterThanOrEqual(1);
      expect(
        diagnostics.lastCommittedPosition! >= during.lastPosition,
        'diagnostics() misses the last committed position',
      ).toBe(true);
      expect(
        diagnostics.lastVisiblePosition === undefined ||
          diagnostics.lastVisiblePosition < diagnostics.horizon,
        'diagnostics() reports a visible position above the horizon',
      ).toBe(true);

      await holder.query('COMMIT');
      ended = true;

      for (const c of collectors) {
        const got = await c.waitFor(
          (events) => events.some((e) => e.position === during.firstPosition),
          BOUND_MS,
        );
        expect(got, `${c.name} did not continue after the long transaction ended`).toBe(true);
      }
      const after = await toArray(store.readAll({ fromPosition: during.firstPosition }));
      expect(
        after.map((e) => e.streamId),
        'readAll did not continue after the long transaction ended',
      ).toEqual(['during']);
      const later = await store.diagnostics();
      expect(later.oldestTransaction?.pid, 'diagnostics() still names the ended transaction').not.toBe(pid);
    } finally {
      if (!ended) await holder.query('ROLLBACK').catch(() => {});
      await holder.end();
    }
  });
});
