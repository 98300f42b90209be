import type { PostgresEventStore } from '@annals/postgres';
import { toArray } from '@annals/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventCollector } from './support/event-collector.js';
import { compareWithLog } from './support/log-checks.js';
import { openStore } from './support/open-store.js';
import { databaseUrl, dropSchema, withRaw } from './support/server.js';

const SCHEMA = 'annals_stress_digits';
/** Bounds each wait only to catch a hang: a transaction open elsewhere on the shared server holds readers back meanwhile. */
const BOUND_MS = 60_000;
/**
 * Transaction ids this test may consume to reach the next boundary (about 50 000 a second). The
 * boundaries are at xid 9 537, 95 367, 953 675, ...: on a young cluster the test runs; on an older
 * one it is skipped unless `STRESS_MAX_BURN` allows more (e.g. 1000000, about 20 s).
 */
const MAX_BURN = Number(process.env.STRESS_MAX_BURN ?? 100_000);
/** Transaction ids consumed per burning transaction, so no reader elsewhere stalls for long. */
const BURN_CHUNK = 5_000;

/** The smallest transaction id whose positions (`xid << 20`) have one decimal digit more than `xid`'s. */
function nextDigitBoundary(xid: bigint): bigint {
  const digits = String(xid << 20n).length;
  const power = 10n ** BigInt(digits);
  return (power + (1n << 20n) - 1n) >> 20n;
}

/** Consumes transaction ids (one subtransaction write each) until the next one is at least `target`. */
async function burnTransactionIds(target: bigint): Promise<void> {
  await withRaw(async (client) => {
    for (;;) {
      const { rows } = await client.query<{ xid: string }>('SELECT pg_current_xact_id()::text AS xid');
      const left = target - BigInt(rows[0]!.xid);
      if (left <= 0n) return;
      const n = Number(left < BigInt(BURN_CHUNK) ? left : BigInt(BURN_CHUNK));
      await client.query('BEGIN');
      await client.query('CREATE TEMP TABLE annals_burn (x int) ON COMMIT DROP');
      await client.query(`DO $$ BEGIN
        FOR i IN 1..${n} LOOP
          BEGIN INSERT INTO annals_burn VALUES (i); EXCEPTION WHEN others THEN NULL; END;
        END LOOP; END $$`);
      await client.query('COMMIT');
    }
  });
}

describe.skipIf(!databaseUrl)('PostgresEventStore: positions that gain a decimal digit', () => {
  let store: PostgresEventStore;
  let paged: PostgresEventStore;

  beforeAll(async () => {
    await dropSchema(SCHEMA);
    store = await openStore(SCHEMA);
    // One row per page: every page boundary is a place where a reader could skip or repeat.
    paged = await openStore(SCHEMA, { migrate: false, pageSize: 1 });
  });

  afterAll(async () => {
    await store?.close();
    await paged?.close();
    await dropSchema(SCHEMA);
  });

  it('keeps the global log in numeric position order across the boundary', async (context) => {
    const subscriber = new EventCollector('subscriber', paged.subscribeToAll());
    const first = await store.append('digits-a', [{ type: 'Short', data: {} }]);
    const xid = first.firstPosition >> 20n;
    const boundary = nextDigitBoundary(xid);
    if (boundary - xid > BigInt(MAX_BURN)) {
      await subscriber.stop();
      context.skip(
        `the next position digit is ${boundary - xid} transaction ids away (more than STRESS_MAX_BURN=${MAX_BURN})`,
      );
      return;
    }
    await burnTransactionIds(boundary);
    const second = await store.append('digits-b', [{ type: 'Long', data: {} }]);
    expect(
      String(second.firstPosition).length,
      'the second append did not get a position with one more digit',
    ).toBe(String(first.firstPosition).length + 1);

    const all = await toArray(store.readAll());
    expect(
      all.map((e) => e.position),
      'readAll returned positions out of numeric order',
    ).toEqual([first.firstPosition, second.firstPosition]);
    const pagedAll = await toArray(paged.readAll());
    expect(
      pagedAll.map((e) => e.position),
      'readAll one row per page skipped or repeated events',
    ).toEqual([first.firstPosition, second.firstPosition]);
    const from = await toArray(store.readAll({ fromPosition: first.firstPosition + 1n }));
    expect(
      from.map((e) => e.position),
      'readAll from between the two positions',
    ).toEqual([second.firstPosition]);

    await subscriber.waitFor((events) => events.length >= 2, BOUND_MS);
    await subscriber.waitFor((events) => events.length > 2, 300);
    await subscriber.stop();
    expect(subscriber.error, 'the subscription ended with an error').toBeUndefined();
    expect(compareWithLog(subscriber.name, subscriber.events, all)).toEqual([]);
  });
});
