import type { EventStore } from '@annals/core';
import { toArray } from '@annals/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventCollector } from './support/event-collector.js';
import { openStore } from './support/open-store.js';
import { databaseUrl, dropSchema } from './support/server.js';

const SCHEMA = 'annals_stress_large';
const ONE_MB = 1024 * 1024;
const BATCH = 10_000;
/** Bounds each wait only to catch a hang: a transaction open elsewhere on the shared server holds readers back meanwhile. */
const BOUND_MS = 60_000;

describe.skipIf(!databaseUrl)('PostgresEventStore: a 1 MB event and a 10,000-event batch', () => {
  let store: EventStore;

  beforeAll(async () => {
    await dropSchema(SCHEMA);
    store = await openStore(SCHEMA, { maxEventBytes: 2 * ONE_MB });
  });

  afterAll(async () => {
    await store?.close();
    await dropSchema(SCHEMA);
  });

  it('round-trips a 1 MB event unchanged', async () => {
    // Not one repeated character: a mix of ASCII, multi-byte text and escapes JSON must keep.
    const unit = 'abc"\\\n\t 帳簿🧾 ';
    const unitJsonBytes = Buffer.byteLength(JSON.stringify(unit)) - 2; // without the quotes
    const text = unit.repeat(Math.ceil(ONE_MB / unitJsonBytes));
    const data = { text, list: Array.from({ length: 1000 }, (_, i) => ({ i, s: `item-${i}` })) };
    const bytes = Buffer.byteLength(JSON.stringify(data));
    expect(bytes, 'the test event is not about 1 MB').toBeGreaterThanOrEqual(ONE_MB);

    const result = await store.append('big-1', [{ type: 'Big', data }], { expectedRevision: 'no_stream' });
    expect(result.nextExpectedRevision).toBe(0n);

    const [read] = await toArray(store.readStream('big-1'));
    expect(read?.data, 'the 1 MB event read back differs from what was appended').toEqual(data);
    const [fromLog] = await toArray(store.readAll({ fromPosition: result.firstPosition, maxCount: 1 }));
    expect(fromLog?.id, 'readAll does not return the 1 MB event at its position').toBe(read?.id);
    expect(fromLog?.data, 'the 1 MB event read from the global log differs').toEqual(data);
  });

  it('appends a 10,000-event batch in one call with revisions 0..9999 and reads it back', async () => {
    const subscriber = new EventCollector('subscriber', store.subscribeToStream('batch-1'));
    const events = Array.from({ length: BATCH }, (_, i) => ({ type: 'Item', data: { i } }));
    const result = await store.append('batch-1', events, { expectedRevision: 'no_stream' });
    expect(result.nextExpectedRevision, 'the batch result names another last revision').toBe(
      BigInt(BATCH - 1),
    );

    const read = await toArray(store.readStream('batch-1'));
    expect(read.length, 'readStream returned another number of events').toBe(BATCH);
    const wrongRevision = read.findIndex(
      (e, i) => e.revision !== BigInt(i) || (e.data as { i: number }).i !== i,
    );
    expect(wrongRevision, `event ${wrongRevision} of the batch has a wrong revision or data`).toBe(-1);
    const notIncreasing = read.findIndex((e, i) => i > 0 && e.position <= read[i - 1]!.position);
    expect(notIncreasing, `positions do not increase at event ${notIncreasing}`).toBe(-1);
    expect(read[0]!.position, 'the first event is not at firstPosition').toBe(result.firstPosition);
    expect(read.at(-1)!.position, 'the last event is not at lastPosition').toBe(result.lastPosition);

    const fromLog = await toArray(store.readAll({ fromPosition: result.firstPosition }));
    expect(
      fromLog.filter((e) => e.streamId === 'batch-1').map((e) => e.id),
      'readAll does not return the batch in revision order',
    ).toEqual(read.map((e) => e.id));

    const backwards = await toArray(store.readStream('batch-1', { direction: 'backwards', maxCount: 3 }));
    expect(
      backwards.map((e) => e.revision),
      'reading backwards does not start at the last revision',
    ).toEqual([9999n, 9998n, 9997n]);

    await subscriber.waitFor((received) => received.length >= BATCH, BOUND_MS);
    await subscriber.stop();
    expect(subscriber.error, 'the stream subscription ended with an error').toBeUndefined();
    expect(
      subscriber.events.map((e) => e.revision),
      'a stream subscription did not receive the batch exactly once in order',
    ).toEqual(read.map((e) => e.revision));

    const next = await store.append('batch-1', [{ type: 'Item', data: { i: BATCH } }], {
      expectedRevision: BigInt(BATCH - 1),
    });
    expect(next.nextExpectedRevision, 'the append after the batch got another revision').toBe(BigInt(BATCH));
  });
});
