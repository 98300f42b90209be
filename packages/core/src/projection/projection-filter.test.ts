import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineEvent } from '../events/define-event.js';
import { InMemoryEventStore } from '../store/in-memory-event-store.js';
import { defineProjection } from './define-projection.js';
import { ProjectionDefinitionInvalid } from './projection-errors.js';
import { ProjectionRunner } from './projection-runner.js';

const Noted = defineEvent('Noted', { schema: z.object({ text: z.string() }) });
const silent = { warn: () => {}, error: () => {} };

describe('a projection that follows a stream prefix, with failures of its own to wait out', () => {
  it('sees only the streams under its prefix, and its lag counts only them', async () => {
    const store = new InMemoryEventStore({ events: [Noted] });
    for (const stream of ['order-1', 'invoice-1', 'order-2', 'orderly-1', 'invoice-2', 'order-1']) {
      await store.append(stream, [Noted.create({ text: stream })]);
    }
    const seen: string[] = [];
    const projection = defineProjection({
      name: 'orders',
      events: [Noted],
      streamPrefix: 'order-',
      handlers: { Noted: (e) => void seen.push(e.streamId) },
    });
    const runner = new ProjectionRunner({ store, projections: [projection], logger: silent });
    expect((await runner.refreshStatus())[0]!.lag.events, 'the events under the prefix wait').toBe(3);
    await runner.start();
    await runner.waitUntilCaughtUp();
    await store.append('invoice-3', [Noted.create({ text: 'not mine' })]);
    await store.append('order-3', [Noted.create({ text: 'live' })]);
    await runner.waitUntilCaughtUp();
    await runner.stop();
    expect(seen).toEqual(['order-1', 'order-2', 'order-1', 'order-3']);
  });

  it('retries the failures its own isTransient recognises for as long as they last, never counting them', async () => {
    const store = new InMemoryEventStore({ events: [Noted] });
    await store.append('s-1', [Noted.create({ text: 'a' }), Noted.create({ text: 'b' })]);
    class BrokerDown extends Error {}
    let outage = 5; // more failures in a row than the policy's retries
    const applied: string[] = [];
    const projection = defineProjection({
      name: 'publishing',
      events: [Noted],
      failure: { retries: 1, backoff: { initialDelayMs: 1, maxDelayMs: 2 }, onExhausted: 'dead-letter' },
      isTransient: (error) => error instanceof BrokerDown,
      handlers: {
        Noted: (e) => {
          if (outage-- > 0) throw new BrokerDown('the broker is down');
          applied.push(e.data.text);
        },
      },
    });
    const runner = new ProjectionRunner({ store, projections: [projection], logger: silent });
    await runner.start();
    await runner.waitUntilCaughtUp();
    await runner.stop();
    expect(applied).toEqual(['a', 'b']);
    expect(await runner.deadLetters.list()).toEqual([]);
    expect(runner.status('publishing')!.state).not.toBe('failed');
  });

  it('refuses an empty stream prefix and an isTransient that is not a function', () => {
    const base = { name: 'p', events: [Noted], handlers: { Noted: () => {} } } as const;
    expect(() => defineProjection({ ...base, streamPrefix: '' })).toThrow(ProjectionDefinitionInvalid);
    expect(() => defineProjection({ ...base, isTransient: 'yes' as never })).toThrow(
      /isTransient must be a function, found string/,
    );
  });
});
