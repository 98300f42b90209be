import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../events/event-types.js';
import { EventStoreBase } from './event-store-base.js';
import { InMemoryEventStore } from './in-memory-event-store.js';
import { publish, subscribe } from './publish-subscribe.js';

/** A promise and the function that resolves it. */
function signal(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('EventStoreBase', () => {
  it('gives a store publish and subscribe that behave as the free functions over its port', async () => {
    const store = new InMemoryEventStore();
    expect(store).toBeInstanceOf(EventStoreBase);
    const seen: RecordedEvent[] = [];
    const third = signal();
    const viaMethod = store.subscribe('s', (event) => {
      seen.push(event);
      if (seen.length === 3) third.resolve();
    });
    const first = await store.publish('s', { type: 'A', data: { n: 1 } });
    const second = await publish(store, 's', {
      type: 'B',
      data: { n: 2 },
      metadata: { by: 'free function' },
    });
    await store.publish('s', { type: 'C', data: { n: 3 } });
    await third.promise;
    await viaMethod.stop();
    expect([first.nextExpectedRevision, second.nextExpectedRevision]).toEqual([0n, 1n]);
    expect(seen.map((e) => [e.type, e.revision])).toEqual([
      ['A', 0n],
      ['B', 1n],
      ['C', 2n],
    ]);

    const replayed: string[] = [];
    const all = signal();
    const viaFunction = subscribe(
      store,
      's',
      (event) => {
        replayed.push(event.type);
        if (replayed.length === 2) all.resolve();
      },
      { fromRevision: 1n },
    );
    await all.promise;
    await viaFunction.stop();
    expect(replayed).toEqual(['B', 'C']);
  });
});
