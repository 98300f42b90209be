import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineCommand } from '../command/define-command.js';
import { defineEvent } from '../events/define-event.js';
import { InMemoryEventStore } from '../store/in-memory-event-store.js';
import type { CommandSender } from './apply-input.js';
import { ManualClock } from './clock.js';
import { defineProcessManager } from './define-process-manager.js';
import { InMemoryProcessStore } from './in-memory-process-store.js';
import { ProcessManagerRunner } from './process-manager-runner.js';
import type { CommandOutcome } from './process-store.js';
import { ProcessTimerFired } from './timer-fired.js';

const OrderPlaced = defineEvent('OrderPlaced', {
  schema: z.object({ orderId: z.string(), amount: z.number() }),
});
const PaymentTaken = defineEvent('PaymentTaken', { schema: z.object({ orderId: z.string() }) });
const OrderShipped = defineEvent('OrderShipped', { schema: z.object({ orderId: z.string() }) });
const Unrelated = defineEvent('Unrelated', { schema: z.object({ orderId: z.string().optional() }) });

const TakePayment = defineCommand('TakePayment', z.object({ orderId: z.string(), amount: z.number() }));
const Ship = defineCommand('Ship', z.object({ orderId: z.string() }));
const CancelOrder = defineCommand('CancelOrder', z.object({ orderId: z.string(), reason: z.string() }));
const Remind = defineCommand('Remind', z.object({ orderId: z.string() }));

class PaymentDeclined extends Error {
  readonly code = 'PAYMENT_DECLINED';
}

/** Places an order: take the payment then ship; remind after an hour unpaid; cancel on a declined payment. */
const Orders = defineProcessManager({
  name: 'orders',
  events: [OrderPlaced, PaymentTaken, OrderShipped, Unrelated],
  correlate: (e) => e.data.orderId,
  initialState: () => ({ amount: 0, paid: false }),
  evolve: {
    OrderPlaced: (s, e) => ({ ...s, amount: e.data.amount }),
    PaymentTaken: (s) => ({ ...s, paid: true }),
  },
  react: {
    OrderPlaced: (s, e, ctx) => {
      ctx.send(TakePayment, { orderId: e.data.orderId, amount: s.amount });
      ctx.send(Ship, { orderId: e.data.orderId });
      ctx.schedule({ after: 3_600_000 }, { type: 'Reminder', attempt: 1 });
    },
    OrderShipped: (_s, _e, ctx) => ctx.complete(),
  },
  timers: {
    Reminder: (s, m, ctx) => {
      if (!s.paid) ctx.send(Remind, { orderId: ctx.key });
      if ((m.attempt as number) < 2) ctx.schedule({ after: 3_600_000 }, { type: 'Reminder', attempt: 2 });
    },
  },
  compensate: (_s, failure, ctx) => {
    ctx.send(CancelOrder, { orderId: ctx.key, reason: failure.error.code ?? failure.error.name });
    ctx.cancel('Reminder');
  },
  isRejection: (error) => error instanceof PaymentDeclined,
});

/** A bus that records what it is sent; `decline` makes TakePayment of those orders fail. */
class RecordingBus {
  readonly sent: { type: string; data: unknown; commandId: string }[] = [];
  readonly decline = new Set<string>();
  /** Throws this (once) after recording the next command: a crash between sending and recording its outcome. */
  failAfterNext: Error | undefined;

  readonly sender: CommandSender = {
    execute: (async (
      command: { type: string },
      data: { orderId: string },
      options?: { commandId?: string },
    ) => {
      this.sent.push({ type: command.type, data, commandId: options?.commandId ?? '' });
      if (this.failAfterNext !== undefined) {
        const error = this.failAfterNext;
        this.failAfterNext = undefined;
        throw error;
      }
      if (command.type === 'TakePayment' && this.decline.has(data.orderId))
        throw new PaymentDeclined('declined');
      return undefined;
    }) as CommandSender['execute'],
  };

  types(): string[] {
    return this.sent.map((c) => `${c.type}:${(c.data as { orderId: string }).orderId}`);
  }
}

const silent = { warn: () => {}, error: () => {} };
const started: ProcessManagerRunner[] = [];
afterEach(async () => {
  for (const runner of started.splice(0)) await runner.stop();
});

async function setup(processes = new InMemoryProcessStore()) {
  const store = new InMemoryEventStore({
    events: [OrderPlaced, PaymentTaken, OrderShipped, Unrelated, ProcessTimerFired],
  });
  const clock = new ManualClock(new Date('2030-01-01T00:00:00Z'));
  const bus = new RecordingBus();
  const runner = new ProcessManagerRunner({
    store,
    bus: bus.sender,
    processManagers: [Orders],
    processes,
    clock,
    timerPollMs: 60_000,
    logger: silent,
  });
  started.push(runner);
  await runner.start();
  return { store, clock, bus, runner, processes };
}

describe('ProcessManagerRunner (in memory)', () => {
  it('evolves each instance by its events and sends its reaction in order, with ids derived from the input', async () => {
    const { store, bus, runner, processes } = await setup();
    const placed = await store.append('order-1', [OrderPlaced.create({ orderId: 'o-1', amount: 30 })]);
    await store.append('misc', [Unrelated.create({})]);
    await runner.waitUntilCaughtUp();
    expect(bus.types()).toEqual(['TakePayment:o-1', 'Ship:o-1']);
    const event = (await first(store.readStream('order-1')))!;
    expect(bus.sent.map((c) => c.commandId)).toEqual([`orders:${event.id}:s0`, `orders:${event.id}:s1`]);
    expect(bus.sent[0]?.data).toEqual({ orderId: 'o-1', amount: 30 });
    const record = await processes.load('orders', 'o-1');
    expect(record).toMatchObject({
      state: { amount: 30, paid: false },
      position: placed.lastPosition,
      completed: false,
    });
    expect(Object.keys(record!.timers)).toEqual(['Reminder']);
  });

  it('fires a timer when the clock reaches it, never before; its reaction runs once', async () => {
    const { store, clock, bus, runner, processes } = await setup();
    await store.append('order-1', [OrderPlaced.create({ orderId: 'o-1', amount: 30 })]);
    await runner.waitUntilCaughtUp();
    const [timer] = await processes.pending('orders', 'o-1');
    expect(timer?.dueAt.toISOString()).toBe('2030-01-01T01:00:00.000Z');

    clock.advance(3_599_999);
    expect(await runner.fireDueTimers(), 'one millisecond early').toBe(0);
    clock.advance(1);
    expect(await runner.fireDueTimers()).toBe(1);
    expect(await runner.fireDueTimers(), 'a fired timer does not fire again').toBe(0);
    await runner.waitUntilCaughtUp();
    expect(bus.types()).toEqual(['TakePayment:o-1', 'Ship:o-1', 'Remind:o-1']);
    // The reaction scheduled the second reminder an hour after the fire was applied.
    expect((await processes.pending('orders', 'o-1')).map((t) => [t.message, t.dueAt.toISOString()])).toEqual(
      [[{ type: 'Reminder', attempt: 2 }, '2030-01-01T02:00:00.000Z']],
    );
  });

  it('fires late, never early, after downtime: timers due while stopped fire at the next start', async () => {
    const processes = new InMemoryProcessStore();
    const { store, clock, bus, runner } = await setup(processes);
    await store.append('order-1', [OrderPlaced.create({ orderId: 'o-1', amount: 30 })]);
    await runner.waitUntilCaughtUp();
    await runner.stop();
    clock.advance(10 * 3_600_000);
    const again = new ProcessManagerRunner({
      store,
      bus: bus.sender,
      processManagers: [Orders],
      processes,
      clock,
      timerPollMs: 60_000,
      logger: silent,
    });
    started.push(again);
    await again.start(); // the poller looks at once
    await expect.poll(() => bus.types().filter((t) => t.startsWith('Remind')).length).toBe(1);
    await again.waitUntilCaughtUp();
    const fired = await first(store.readAll({ filter: { types: [ProcessTimerFired.type] } }));
    expect(fired?.data).toMatchObject({ key: 'o-1', name: 'Reminder', dueAt: '2030-01-01T01:00:00.000Z' });
  });

  it('runs the compensation when a command is rejected: the commands after it are not sent', async () => {
    const { store, bus, runner, processes } = await setup();
    bus.decline.add('o-2');
    await store.append('order-2', [OrderPlaced.create({ orderId: 'o-2', amount: 99 })]);
    await runner.waitUntilCaughtUp();
    expect(bus.sent.map((c) => [c.type, c.commandId.slice(-2)])).toEqual([
      ['TakePayment', 's0'],
      ['CancelOrder', 'c0'],
    ]);
    expect(bus.sent[1]?.data).toEqual({ orderId: 'o-2', reason: 'PAYMENT_DECLINED' });
    expect(await processes.pending('orders', 'o-2'), 'the compensation cancelled the reminder').toEqual([]);
  });

  it('cancels the pending timers of a process that completes, and ignores its later inputs', async () => {
    const { store, clock, bus, runner, processes } = await setup();
    await store.append('order-3', [OrderPlaced.create({ orderId: 'o-3', amount: 1 })]);
    await store.append('order-3', [OrderShipped.create({ orderId: 'o-3' })]);
    await runner.waitUntilCaughtUp();
    expect(await processes.pending('orders')).toEqual([]);
    expect((await processes.load('orders', 'o-3'))?.completed).toBe(true);
    await store.append('order-3', [OrderPlaced.create({ orderId: 'o-3', amount: 1 })]);
    clock.advance(5 * 3_600_000);
    expect(await runner.fireDueTimers()).toBe(0);
    await runner.waitUntilCaughtUp();
    expect(bus.types()).toEqual(['TakePayment:o-3', 'Ship:o-3']);
  });

  it('ignores the fire of a timer cancelled after it was claimed', async () => {
    const { store, clock, bus, runner, processes } = await setup();
    bus.decline.add('o-4');
    await store.append('order-4', [OrderPlaced.create({ orderId: 'o-4', amount: 1 })]);
    await runner.waitUntilCaughtUp();
    // The reminder was cancelled by the compensation; a fire appended anyway (a slow poller) is stale.
    await store.append('process-orders', [
      ProcessTimerFired.create({
        process: 'orders',
        key: 'o-4',
        name: 'Reminder',
        scheduledBy: (await first(store.readStream('order-4')))!.id,
        dueAt: new Date(clock.now()).toISOString(),
        message: { type: 'Reminder', attempt: 1 },
      }),
    ]);
    await runner.waitUntilCaughtUp();
    expect(bus.types()).toEqual(['TakePayment:o-4', 'CancelOrder:o-4']);
    expect(await processes.pending('orders')).toEqual([]);
  });

  it('after a crash before its commit, re-runs the input without sending again the commands whose outcome is recorded', async () => {
    const processes = new CrashingProcessStore();
    const { store, bus, runner } = await setup(processes);
    processes.crashAtCommit = 1;
    await store.append('order-5', [OrderPlaced.create({ orderId: 'o-5', amount: 5 })]);
    // The failure policy retries the input: the first attempt's commit "crashed".
    await runner.waitUntilCaughtUp();
    expect(processes.commits).toBe(2);
    expect(bus.types(), 'each command sent once').toEqual(['TakePayment:o-5', 'Ship:o-5']);
    expect((await processes.pending('orders', 'o-5')).length).toBe(1);
  });

  it('after a crash between sending a command and recording its outcome, sends it again with the same id', async () => {
    const { store, bus, runner, processes } = await setup();
    bus.failAfterNext = Object.assign(new Error('connection lost'), { code: 'STORE_UNAVAILABLE' });
    await store.append('order-6', [OrderPlaced.create({ orderId: 'o-6', amount: 5 })]);
    await runner.waitUntilCaughtUp();
    const ids = bus.sent.map((c) => c.commandId);
    expect(bus.types()).toEqual(['TakePayment:o-6', 'TakePayment:o-6', 'Ship:o-6']);
    expect(ids[0], 'the re-send carries the same id').toBe(ids[1]);
    expect(await processes.outcome(ids[0]!)).toEqual({ ok: true } satisfies CommandOutcome);
  });
});

async function first<T>(items: AsyncIterable<T>): Promise<T | undefined> {
  for await (const item of items) return item;
  return undefined;
}

/** An in-memory store whose `crashAtCommit`-th commit throws before writing. */
class CrashingProcessStore extends InMemoryProcessStore {
  crashAtCommit = 0;
  commits = 0;
  override async commit(...args: Parameters<InMemoryProcessStore['commit']>): Promise<boolean> {
    if (++this.commits === this.crashAtCommit) throw new Error('crash before the commit');
    return super.commit(...args);
  }
}
