import 'reflect-metadata';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CommandBus } from '../command/command-bus.js';
import { CommandHandler, type Handles } from '../command/command-handler.js';
import { type CommandData, defineCommand } from '../command/define-command.js';
import { retryOnConcurrency } from '../command/middleware/index.js';
import { defineEvent } from '../events/define-event.js';
import { defineProjection } from '../projection/define-projection.js';
import { ProjectionRunner } from '../projection/projection-runner.js';
import { InMemoryEventStore } from '../store/in-memory-event-store.js';
import { isAppendConditionFailed } from './append-condition.js';
import { buildDecisionModel, decisionProjection } from './decision-model.js';

const SeatReserved = defineEvent('SeatReserved', {
  schema: z.object({ showId: z.string(), seat: z.number().int() }),
  tags: (d) => [`show:${d.showId}`],
});
const reserved = (showId: string) =>
  decisionProjection({
    query: { items: [{ types: ['SeatReserved'], tags: [`show:${showId}`] }] },
    initialState: 0,
    apply: (n) => n + 1,
  });

const Reserve = defineCommand('Reserve', z.object({ showId: z.string() }));

class SoldOut extends Error {}

@CommandHandler(Reserve)
class ReserveHandler implements Handles<typeof Reserve> {
  attempts = 0;
  constructor(private readonly store: InMemoryEventStore) {}
  async execute(cmd: CommandData<typeof Reserve>) {
    this.attempts++;
    const { state, condition } = await buildDecisionModel(this.store, { taken: reserved(cmd.showId) });
    if (state.taken >= 3) throw new SoldOut(`show ${cmd.showId} is sold out`);
    // Another decision runs while this one waits: its append makes this condition fail.
    await new Promise((resolve) => setImmediate(resolve));
    await this.store.append(
      `show-${cmd.showId}`,
      [SeatReserved.create({ showId: cmd.showId, seat: state.taken + 1 })],
      {
        condition,
      },
    );
    return state.taken + 1;
  }
}

describe('buildDecisionModel', () => {
  it('folds each event into the projections whose query matches it and returns the union of the queries after the last event read', async () => {
    const store = new InMemoryEventStore({ events: [SeatReserved] });
    await store.append('show-a', [SeatReserved.create({ showId: 'a', seat: 1 })]);
    await store.append('show-b', [SeatReserved.create({ showId: 'b', seat: 1 })]);
    const last = await store.append('show-a', [SeatReserved.create({ showId: 'a', seat: 2 })]);
    const { state, condition } = await buildDecisionModel(store, { a: reserved('a'), c: reserved('c') });
    expect(state).toEqual({ a: 2, c: 0 });
    expect(condition).toEqual({
      failIfEventsMatch: {
        items: [
          { types: ['SeatReserved'], tags: ['show:a'] },
          { types: ['SeatReserved'], tags: ['show:c'] },
        ],
      },
      after: last.lastPosition,
    });
    const none = await buildDecisionModel(store, { c: reserved('c') });
    expect(none.condition.after).toBeUndefined();
  });

  it('protects a rule in a command handler: concurrent commands through retryOnConcurrency never exceed it, and the stale ones are retried', async () => {
    const store = new InMemoryEventStore({ events: [SeatReserved] });
    const handler = new ReserveHandler(store);
    const bus = new CommandBus({ handlers: [handler] }).use(
      retryOnConcurrency({ maxAttempts: 10, initialDelayMs: 1 }),
    );
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, () => bus.execute(Reserve, { showId: 'x' })),
    );
    const seats = results.filter((r) => r.status === 'fulfilled').map((r) => r.value);
    expect([...seats].sort()).toEqual([1, 2, 3]);
    const refused = results.filter((r) => r.status === 'rejected').map((r) => r.reason);
    expect(refused.every((e) => e instanceof SoldOut)).toBe(true);
    expect(handler.attempts).toBeGreaterThan(6); // stale decisions ran again
    const stored = [];
    for await (const e of store.readStream('show-x')) stored.push(e.data);
    expect(stored).toEqual([
      { showId: 'x', seat: 1 },
      { showId: 'x', seat: 2 },
      { showId: 'x', seat: 3 },
    ]);
  });

  it('refuses a store without append conditions, and an append condition failure is typed', async () => {
    const store = new InMemoryEventStore();
    const plain = Object.create(store, {
      capabilities: { value: { multiProcess: false, concurrentCommits: false } },
    });
    await expect(buildDecisionModel(plain, { a: reserved('a') })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await store.append('s', [{ type: 'SeatReserved', data: { showId: 'a', seat: 1 }, tags: ['show:a'] }]);
    const error = await store
      .append('s', [{ type: 'Other', data: {} }], {
        condition: { failIfEventsMatch: { items: [{ tags: ['show:a'] }] } },
      })
      .catch((e: unknown) => e);
    expect(isAppendConditionFailed(error)).toBe(true);
  });
});

describe('a projection following tags', () => {
  it('receives only the events of its handled types that carry its tags', async () => {
    const store = new InMemoryEventStore({ events: [SeatReserved] });
    const seen: number[] = [];
    const projection = defineProjection({
      name: 'show-a-seats',
      events: [SeatReserved],
      tags: ['show:a'],
      handlers: { SeatReserved: (e) => void seen.push(e.data.seat) },
    });
    await store.append('show-a', [SeatReserved.create({ showId: 'a', seat: 1 })]);
    await store.append('show-b', [SeatReserved.create({ showId: 'b', seat: 7 })]);
    const runner = new ProjectionRunner({
      store,
      projections: [projection],
      logger: { warn() {}, error() {} },
    });
    await runner.start();
    await store.append('show-a', [SeatReserved.create({ showId: 'a', seat: 2 })]);
    await runner.waitUntilCaughtUp();
    await runner.stop();
    expect(seen).toEqual([1, 2]);
    expect(() =>
      defineProjection({
        name: 'bad',
        events: [SeatReserved],
        tags: [''],
        handlers: { SeatReserved: () => {} },
      }),
    ).toThrow(/tag/);
  });
});
