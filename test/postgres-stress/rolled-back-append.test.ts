import { hasErrorCode, type NewEvent } from '@annals/core';
import type { PostgresEventStore } from '@annals/postgres';
import { toArray } from '@annals/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finalLog } from '../support/final-log.js';
import { EventCollector } from './support/event-collector.js';
import { compareWithLog } from './support/log-checks.js';
import { openStore } from './support/open-store.js';
import { storedEventCount, storedEventIds, storedStreamRevision } from './support/raw-tables.js';
import { databaseUrl, dropSchema, sleep } from './support/server.js';

const SCHEMA = 'annals_stress_rollback';
/** Bounds each wait only to catch a hang: a transaction open elsewhere on the shared server holds readers back meanwhile. */
const BOUND_MS = 60_000;

class Rollback extends Error {}

function batch(label: string, size: number): (NewEvent & { id: string })[] {
  return Array.from({ length: size }, (_, i) => ({
    id: crypto.randomUUID(),
    type: 'Doomed',
    data: { label, i },
  }));
}

describe.skipIf(!databaseUrl)('PostgresEventStore: a rolled-back append', () => {
  let store: PostgresEventStore;
  let other: PostgresEventStore;
  const collectors: EventCollector[] = [];
  const doomedIds: string[] = [];

  beforeAll(async () => {
    await dropSchema(SCHEMA);
    store = await openStore(SCHEMA, { poolMax: 4 });
    // A second node on the same schema: its subscriber learns of appends through NOTIFY or polling only.
    other = await openStore(SCHEMA, { migrate: false });
    collectors.push(new EventCollector('subscriber on the writing store', store.subscribeToAll()));
    collectors.push(new EventCollector('subscriber on another store', other.subscribeToAll()));
    await store.append(
      'steady',
      [
        { type: 'Opened', data: {} },
        { type: 'Deposited', data: {} },
      ],
      {
        expectedRevision: 'no_stream',
      },
    );
  });

  afterAll(async () => {
    await Promise.all(collectors.map((c) => c.stop()));
    await store?.close();
    await other?.close();
    await dropSchema(SCHEMA);
  });

  /** Appends a marker from the other store and waits until every subscriber has it. */
  async function expectReadersReceive(label: string): Promise<void> {
    const { firstPosition } = await other.append(`marker-${label}`, [{ type: 'Marker', data: { label } }]);
    for (const c of collectors) {
      const got = await c.waitFor((events) => events.some((e) => e.position === firstPosition), BOUND_MS);
      expect(got, `${c.name} did not receive the event appended after ${label}: readers are stalled`).toBe(
        true,
      );
    }
  }

  /** Nothing of `ids` is stored, and the two streams hold what they held before. */
  async function expectNoTrace(label: string, ids: readonly string[], newStream: string): Promise<void> {
    expect(await storedEventIds(SCHEMA, ids), `${label}: events of the rolled-back batch are stored`).toEqual(
      [],
    );
    expect(
      await storedStreamRevision(SCHEMA, 'steady'),
      `${label}: the revision of stream steady moved`,
    ).toBe(1n);
    expect(await storedEventCount(SCHEMA, 'steady'), `${label}: stream steady holds other events`).toBe(2);
    expect(
      await storedStreamRevision(SCHEMA, newStream),
      `${label}: stream ${newStream} has a row in the streams table`,
    ).toBeUndefined();
    await expect(
      toArray(store.readStream(newStream)),
      `${label}: stream ${newStream} can be read`,
    ).rejects.toSatisfy((error) => hasErrorCode(error, 'STREAM_NOT_FOUND'));
  }

  it('a transaction that appended and then threw leaves no trace and does not stall readers', async () => {
    const steady = batch('thrown', 3);
    const fresh = batch('thrown', 2);
    doomedIds.push(...steady.map((e) => e.id), ...fresh.map((e) => e.id));
    await expect(
      store.transaction(async (transaction) => {
        await store.append('steady', steady, { expectedRevision: 1n, transaction });
        await store.append('doomed-thrown', fresh, { expectedRevision: 'no_stream', transaction });
        throw new Rollback('the caller gives up');
      }),
    ).rejects.toBeInstanceOf(Rollback);
    await expectNoTrace('thrown transaction', doomedIds, 'doomed-thrown');
    await expectReadersReceive('the thrown transaction');
  });

  it('a transaction whose next statement fails in the database leaves no trace and does not stall readers', async () => {
    const events = batch('failed', 2);
    doomedIds.push(...events.map((e) => e.id));
    await expect(
      store.transaction(async (transaction) => {
        await store.append('doomed-failed', events, { expectedRevision: 'no_stream', transaction });
        await sql`select 1 / 0`.execute(transaction);
      }),
    ).rejects.toThrow(/division by zero/);
    await expectNoTrace('failed statement', doomedIds, 'doomed-failed');
    await expectReadersReceive('the failed statement');
  });

  it('a plain append that fails inside its statement writes nothing (one id of the batch is taken)', async () => {
    // The second event reuses a stored id of another stream: the statement inserts the first row,
    // then hits the unique index; the whole statement must roll back.
    const [taken] = await toArray(store.readStream('steady', { maxCount: 1 }));
    const fresh = { id: crypto.randomUUID(), type: 'Doomed', data: { label: 'conflict' } };
    doomedIds.push(fresh.id);
    await expect(
      store.append('steady', [fresh, { id: taken!.id, type: taken!.type, data: taken!.data }], {
        expectedRevision: 1n,
      }),
    ).rejects.toSatisfy((error) => hasErrorCode(error, 'IDEMPOTENCY_CONFLICT'));
    await expectNoTrace('failed plain append', [fresh.id], 'doomed-never');
    await expectReadersReceive('the failed plain append');
  });

  it('events committed while a doomed transaction stays open reach readers once it rolls back', async () => {
    const events = batch('slow', 3);
    doomedIds.push(...events.map((e) => e.id));
    let appended!: () => void;
    const appendedInside = new Promise<void>((resolve) => (appended = resolve));
    const doomed = store.transaction(async (transaction) => {
      await store.append('doomed-slow', events, { expectedRevision: 'no_stream', transaction });
      appended();
      await sleep(1000);
      throw new Rollback('rolled back after others committed');
    });
    doomed.catch(() => {});
    await appendedInside;
    // Later transaction ids, committed before the doomed one ends.
    const committed: bigint[] = [];
    for (let i = 0; i < 5; i++)
      committed.push((await other.append(`live-${i}`, [{ type: 'Live', data: { i } }])).firstPosition);
    await expect(doomed).rejects.toBeInstanceOf(Rollback);
    await expectNoTrace('slow rollback', doomedIds, 'doomed-slow');
    for (const c of collectors) {
      const got = await c.waitFor(
        (received) => committed.every((p) => received.some((e) => e.position === p)),
        BOUND_MS,
      );
      expect(
        got,
        `${c.name} did not receive the 5 events committed while a doomed transaction was open`,
      ).toBe(true);
    }
    await expectReadersReceive('the slow rollback');
  });

  it('every subscriber ends with the final log exactly once, in order, without a rolled-back event', async () => {
    const log = await finalLog(store);
    const leaked = log.filter((e) => doomedIds.includes(e.id)).map((e) => `${e.streamId}@${e.revision}`);
    expect(leaked, 'the global log holds rolled-back events').toEqual([]);
    for (const c of collectors) {
      await c.waitFor((events) => events.length >= log.length, BOUND_MS);
      expect(c.error, `${c.name} ended with an error`).toBeUndefined();
      expect(compareWithLog(c.name, c.events, log)).toEqual([]);
    }
  });
});
