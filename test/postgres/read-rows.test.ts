import type { RecordedEvent } from '@annals/core';
import { toArray } from '@annals/testing';
import { describe, expect, it } from 'vitest';
import { eventually, targets, useTestDatabase } from './support/test-database.js';

const db = useTestDatabase('read_rows');

describe.each(targets)('reads: what a row carries (%s)', (target) => {
  it('every read gives the stream id and the metadata as appended, empty metadata as a frozen {} of its own', async () => {
    const store = await db.open(target);
    await store.append('rows-a', [
      { type: 'T', data: { n: 0 }, metadata: { correlationId: 'c-1', nested: { tags: ['x'] } } },
      { type: 'T', data: { n: 1 } },
      { type: 'T', data: { n: 2 }, metadata: {} },
    ]);
    await store.append('rows-b', [{ type: 'T', data: { n: 3 }, metadata: { causationId: 'c-2' } }]);
    const expected = [
      { streamId: 'rows-a', metadata: { correlationId: 'c-1', nested: { tags: ['x'] } } },
      { streamId: 'rows-a', metadata: {} },
      { streamId: 'rows-a', metadata: {} },
      { streamId: 'rows-b', metadata: { causationId: 'c-2' } },
    ];
    const shape = (events: RecordedEvent[]) =>
      events.map((e) => ({ streamId: e.streamId, metadata: e.metadata }));
    const check = (events: RecordedEvent[], want: typeof expected) => {
      expect(shape(events)).toEqual(want);
      for (const event of events) expect(Object.isFrozen(event.metadata)).toBe(true);
      // Two events never share one metadata object.
      expect(new Set(events.map((e) => e.metadata)).size).toBe(events.length);
    };

    check(await toArray(store.readStream('rows-a')), expected.slice(0, 3));
    check(
      await toArray(store.readStream('rows-a', { direction: 'backwards' })),
      expected.slice(0, 3).reverse(),
    );
    check(await toArray(store.readStream('rows-b')), expected.slice(3));
    // readAll stops below the oldest running transaction of the cluster: wait until that is past ours.
    await eventually(async () => (await toArray(store.readAll())).length === expected.length, 30_000);
    check(await toArray(store.readAll()), expected);

    const subscription = store.subscribeToStream('rows-a');
    const seen: RecordedEvent[] = [];
    for await (const event of subscription) if (seen.push(event) === 3) break;
    check(seen, expected.slice(0, 3));
  });
});
