import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineEvent } from '../events/define-event.js';
import type { RecordedEvent } from '../events/event-types.js';
import { backoffDelay } from '../retry/backoff.js';
import { defineProjection } from './define-projection.js';
import { ProjectionDefinitionInvalid } from './projection-errors.js';
import { shardKey, shardOf } from './shard.js';

const Deposited = defineEvent('Deposited', {
  schema: z.object({ accountId: z.string(), amount: z.number() }),
});
const Closed = defineEvent('Closed', { schema: z.object({ accountId: z.string() }) });

function recorded<T extends string, D>(type: T, data: D): RecordedEvent<T, D> {
  return {
    id: '0190a4d2-0000-7000-8000-000000000001',
    type,
    schemaVersion: 1,
    tags: [],
    streamId: 'account-1',
    revision: 0n,
    position: 1n,
    data,
    metadata: {},
    recordedAt: new Date(),
  };
}

describe('defineProjection', () => {
  it('types handlers from the event definitions and dispatches by type', async () => {
    const seen: number[] = [];
    interface Ctx {
      readonly total: { value: number };
    }
    const projection = defineProjection({
      name: 'totals',
      events: [Deposited, Closed],
      handlers: {
        Deposited: (e, ctx: Ctx) => {
          ctx.total.value += e.data.amount; // e.data is typed: amount is a number
          seen.push(e.data.amount);
        },
      },
    });
    const total = { value: 0 };
    await projection.handle(recorded('Deposited', { accountId: 'a', amount: 5 }), { total });
    await projection.handle(recorded('Closed', { accountId: 'a' }), { total }); // no handler: ignored
    expect(total.value).toBe(5);
    expect(seen).toEqual([5]);
    expect(projection.eventTypes).toEqual(['Deposited']);
    expect(projection.shards).toBe(1);
    expect(projection.failure).toEqual({
      retries: 3,
      backoff: { initialDelayMs: 100, maxDelayMs: 5000, factor: 2, jitter: 0.5 },
      onExhausted: 'stop',
    });
    expect(Object.isFrozen(projection)).toBe(true);
  });

  it('rejects at compile time a handler for a type outside its events', () => {
    expect(() =>
      defineProjection({
        name: 'x',
        // @ts-expect-error Closed is not among the events
        events: [Deposited],
        handlers: { Deposited: () => {}, Closed: () => {} },
      }),
    ).toThrow(/handler is keyed Closed, which is not among its events \(Deposited\)/);
  });

  it.each([
    [{ name: '', handlers: { A: () => {} } }, /name to be a non-empty string/],
    [
      { name: 'balances-\ud800', handlers: { A: () => {} } },
      /name to be .*well-formed.*found a lone surrogate \(\\ud800\) at index 9/,
    ],
    [
      { name: 'bal\u0000ances', handlers: { A: () => {} } },
      /name to be .*found the NUL character at index 3/,
    ],
    [{ name: 'x'.repeat(201), handlers: { A: () => {} } }, /at most 200 characters.*found 201 characters/],
    [{ name: 'p', handlers: {} }, /at least one handler, found none/],
    [{ name: 'p', handlers: { A: 'nope' } }, /handler for A must be a function, found string/],
    [{ name: 'p', handlers: { A: () => {} }, batchSize: 0 }, /batchSize must be a positive integer, found 0/],
    [
      { name: 'p', handlers: { A: () => {} }, shards: 1.5 },
      /shards must be an integer from 1 to 1024, found 1.5/,
    ],
    [
      { name: 'p', handlers: { A: () => {} }, failure: { retries: -1 } },
      /retries must be an integer >= 0, found -1/,
    ],
    [
      { name: 'p', handlers: { A: () => {} }, failure: { onExhausted: 'skip' } },
      /onExhausted must be 'stop' or 'dead-letter'/,
    ],
    [
      { name: 'p', handlers: { A: () => {} }, failure: { backoff: { initialDelayMs: 10, maxDelayMs: 5 } } },
      /failure\.backoff\.maxDelayMs \(5\) must be at least initialDelayMs \(10\)/,
    ],
  ])('refuses a bad definition with PROJECTION_DEFINITION_INVALID (%#)', (options, message) => {
    let caught: unknown;
    try {
      defineProjection(options as never);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ProjectionDefinitionInvalid);
    expect((caught as ProjectionDefinitionInvalid).code).toBe('PROJECTION_DEFINITION_INVALID');
    expect((caught as Error).message).toMatch(message);
  });

  it('defines a batch projection: typed events, one call per batch, other types left out', async () => {
    const batches: number[][] = [];
    const projection = defineProjection({
      name: 'batched',
      events: [Deposited],
      handleBatch: (events, ctx: { total: { value: number } }) => {
        const amounts = events.map((e) => e.data.amount); // e.data is typed: amount is a number
        ctx.total.value += amounts.reduce((a, b) => a + b, 0);
        batches.push(amounts);
      },
    });
    expect(projection.batched).toBe(true);
    expect(projection.eventTypes).toEqual(['Deposited']);
    const total = { value: 0 };
    await projection.handleBatch(
      [
        recorded('Deposited', { accountId: 'a', amount: 5 }),
        recorded('Closed', { accountId: 'a' }),
        recorded('Deposited', { accountId: 'a', amount: 7 }),
      ],
      { total },
    );
    await projection.handleBatch([recorded('Closed', { accountId: 'a' })], { total }); // none left: no call
    await projection.handle(recorded('Deposited', { accountId: 'a', amount: 1 }), { total });
    expect(batches).toEqual([[5, 7], [1]]);
    expect(total.value).toBe(13);

    const perEvent = defineProjection({ name: 'p', handlers: { Deposited: () => {} } });
    expect(perEvent.batched).toBe(false);
  });

  it('applies per-event handlers in order through handleBatch', async () => {
    const seen: string[] = [];
    const projection = defineProjection({
      name: 'ordered',
      events: [Deposited, Closed],
      handlers: {
        Deposited: (e) => {
          seen.push(`d${e.data.amount}`);
        },
        Closed: () => {
          seen.push('c');
        },
      },
    });
    await projection.handleBatch(
      [
        recorded('Deposited', { accountId: 'a', amount: 1 }),
        recorded('Closed', { accountId: 'a' }),
        recorded('Deposited', { accountId: 'a', amount: 2 }),
      ],
      {},
    );
    expect(seen).toEqual(['d1', 'c', 'd2']);
  });

  it('refuses handlers and handleBatch together, at compile time and at run time', () => {
    const both = {
      name: 'both',
      events: [Deposited],
      handlers: { Deposited: () => {} },
      handleBatch: () => {},
    } as const;
    let caught: unknown;
    try {
      // @ts-expect-error a projection has either handlers or handleBatch
      defineProjection(both);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ProjectionDefinitionInvalid);
    expect((caught as ProjectionDefinitionInvalid).projection).toBe('both');
    expect((caught as Error).message).toMatch(/both handlers and handleBatch; give one or the other/);
  });

  it.each([
    [{ name: 'p', handleBatch: () => {} }, /handleBatch needs events, .* found undefined/],
    [{ name: 'p', events: [], handleBatch: () => {} }, /handleBatch needs events, .* found an empty array/],
    [{ name: 'p', events: [Deposited], handleBatch: 'nope' }, /handleBatch must be a function, found string/],
    [{ name: 'p' }, /handlers must be an object keyed by event type \(or give handleBatch\)/],
  ])('refuses a bad batch definition with PROJECTION_DEFINITION_INVALID (%#)', (options, message) => {
    expect(() => defineProjection(options as never)).toThrow(ProjectionDefinitionInvalid);
    expect(() => defineProjection(options as never)).toThrow(message);
  });

  it('refuses reset() when the projection has no reset hook', async () => {
    const projection = defineProjection({ name: 'p', handlers: { A: () => {} } });
    expect(projection.resettable).toBe(false);
    await expect(projection.reset({})).rejects.toThrow(/has no reset hook/);
  });
});

describe('backoff', () => {
  const options = defineProjection({
    name: 'p',
    handlers: { A: () => {} },
    failure: { backoff: { initialDelayMs: 100, maxDelayMs: 1000, factor: 2 } },
  }).failure.backoff;

  it('grows exponentially, stays within [delay/2, delay] with the default jitter, and is capped', () => {
    expect(options.jitter, 'the default jitter of a failure policy').toBe(0.5);
    expect(backoffDelay(1, { ...options, jitter: 0 })).toBe(100);
    expect(backoffDelay(3, { ...options, jitter: 0 })).toBe(400);
    expect(backoffDelay(10, { ...options, jitter: 0 })).toBe(1000);
    expect(backoffDelay(3, options, () => 1)).toBe(200);
    expect(backoffDelay(3, options, () => 0.000001)).toBeCloseTo(400, 2);
    expect(backoffDelay(50, options, () => 0)).toBe(1000);
  });
});

describe('shardOf', () => {
  it('is stable, in range, and spreads streams over the shards', () => {
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 400; i++) counts[shardOf(`account-${i}`, 4)]!++;
    for (const count of counts) expect(count).toBeGreaterThan(50);
    expect(shardOf('account-7', 4)).toBe(shardOf('account-7', 4));
    expect(shardOf('anything', 1)).toBe(0);
    expect(shardKey('p', 2, 4)).toBe('p[2/4]');
    expect(shardKey('p', 0, 1)).toBe('p');
    expect(() => shardOf('a', 0)).toThrow(/positive integer, found 0/);
  });
});
