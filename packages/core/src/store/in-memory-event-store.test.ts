import { toArray } from '@annals/testing';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineEvent } from '../events/define-event.js';
import type { RecordedEvent } from '../events/event-types.js';
import type { ReadStreamOptions } from './event-store.js';
import { InMemoryEventStore, readStreamSync } from './in-memory-event-store.js';

const Noted = defineEvent('Noted', { schema: z.object({ text: z.string(), tags: z.array(z.string()) }) });

describe('InMemoryEventStore', () => {
  it('freezes an event once, on append: reads share its frozen data, each with its own recordedAt', async () => {
    const store = new InMemoryEventStore({ events: [Noted] });
    const data = { text: 'a', tags: ['x'] };
    await store.append('s-1', [Noted.create(data, { metadata: { nested: { n: 1 } } })]);
    data.tags.push('changed after append');
    const [first] = await toArray(store.readStream('s-1'));
    const [second] = await toArray(store.readStream('s-1'));
    expect(first!.data).toEqual({ text: 'a', tags: ['x'] });
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen((first!.data as { tags: string[] }).tags)).toBe(true);
    expect(Object.isFrozen((first!.metadata as { nested: object }).nested)).toBe(true);
    expect(second!.data).toBe(first!.data);
    expect(second!.recordedAt).not.toBe(first!.recordedAt);
    const time = first!.recordedAt.getTime();
    first!.recordedAt.setTime(0);
    const [third] = await toArray(store.readStream('s-1'));
    expect(third!.recordedAt.getTime()).toBe(time);
  });

  it('readStreamSync yields what readStream yields, and only for a store whose readStream is its own', async () => {
    const store = new InMemoryEventStore({ events: [Noted] });
    await store.append(
      's-1',
      [0, 1, 2, 3].map((i) => Noted.create({ text: `${i}`, tags: [] })),
    );
    for (const options of [
      {},
      { fromRevision: 1n },
      { maxCount: 2 },
      { direction: 'backwards' as const, fromRevision: 2n, maxCount: 2 },
    ]) {
      const sync = [...readStreamSync(store, 's-1', options)!];
      expect(sync).toEqual(await toArray(store.readStream('s-1', options)));
    }
    expect(() => [...readStreamSync(store, 'missing')!]).toThrow(/missing/);

    class Recording extends InMemoryEventStore {
      override readStream(streamId: string, options?: ReadStreamOptions): AsyncGenerator<RecordedEvent> {
        return super.readStream(streamId, options);
      }
    }
    expect(readStreamSync(new Recording(), 's-1')).toBeUndefined();
    expect(readStreamSync(new Proxy(store, {}), 's-1')).toBeUndefined();
  });
});
