import {
  CommandBus,
  consoleLogger,
  defineProjection,
  InMemoryEventStore,
  type Logger,
  ProjectionRunner,
  subscribe,
  TRACE_CONTEXT_METADATA_KEY,
  uuidv7,
} from '@annals/core';
import { registerAnnals } from '@annals/core/tsyringe';
import { toArray } from '@annals/testing';
import { trace } from '@opentelemetry/api';
import { container } from 'tsyringe';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  Deposit,
  DepositHandler,
  OpenAccount,
  OpenAccountHandler,
} from '../../examples/bank-account/src/application/commands.js';
import { bankEvents, MoneyDeposited } from '../../examples/bank-account/src/domain/index.js';

type Line = [level: string, details: Readonly<Record<string, unknown>>, message: string];

/** A pino-shaped logger that keeps its lines; `child` records its bindings with each line. */
function recordingLogger(lines: Line[], bindings: Record<string, unknown> = {}): Logger {
  const log = (level: string) => (details: Readonly<Record<string, unknown>>, message: string) =>
    void lines.push([level, { ...bindings, ...details }, message]);
  return {
    warn: log('warn'),
    error: log('error'),
    info: log('info'),
    child: (more) => recordingLogger(lines, { ...bindings, ...more }),
  };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('the pluggable logger', () => {
  it("a failing subscribe callback without onError goes to the store's logger, not the console", async () => {
    const consoleError = vi.spyOn(console, 'error').mockImplementation(() => {});
    const lines: Line[] = [];
    const store = new InMemoryEventStore({ logger: recordingLogger(lines) });
    const subscription = store.subscribe('s', () => {
      throw new Error('boom');
    });
    await store.publish('s', { type: 'Note', data: {} });
    await expect(subscription.done).rejects.toThrow('boom');
    expect(lines).toEqual([
      [
        'error',
        { err: expect.objectContaining({ message: 'boom' }) },
        'subscription handler failed; delivery stopped.',
      ],
    ]);
    expect(consoleError, 'nothing on the console').not.toHaveBeenCalled();
    await store.close();
  });

  it('subscribe(..., { logger }) overrides the store logger for that subscription', async () => {
    const storeLines: Line[] = [];
    const ownLines: Line[] = [];
    const store = new InMemoryEventStore({ logger: recordingLogger(storeLines) });
    const subscription = subscribe(
      store,
      's',
      () => {
        throw new Error('boom');
      },
      { logger: recordingLogger(ownLines) },
    );
    await store.publish('s', { type: 'Note', data: {} });
    await expect(subscription.done).rejects.toThrow('boom');
    expect(ownLines.map(([level, , message]) => [level, message])).toEqual([
      ['error', 'subscription handler failed; delivery stopped.'],
    ]);
    expect(storeLines).toEqual([]);
    await store.close();
  });

  it('by default (consoleLogger) the failure is on the console with an [annals] prefix, as before', async () => {
    const consoleError = vi.spyOn(console, 'error').mockImplementation(() => {});
    const store = new InMemoryEventStore();
    expect(store.logger).toBe(consoleLogger);
    const subscription = store.subscribe('s', () => {
      throw new Error('boom');
    });
    await store.publish('s', { type: 'Note', data: {} });
    await expect(subscription.done).rejects.toThrow('boom');
    expect(consoleError).toHaveBeenCalledWith(
      '[annals] subscription handler failed; delivery stopped.',
      expect.objectContaining({ message: 'boom' }),
    );
    await store.close();
  });

  it("the runner logs a dead letter through the logger's child for the projection", async () => {
    const lines: Line[] = [];
    const store = new InMemoryEventStore({ events: bankEvents });
    const poisoned = defineProjection({
      name: 'poisoned',
      events: [MoneyDeposited],
      failure: { retries: 0, backoff: { initialDelayMs: 1, maxDelayMs: 1 }, onExhausted: 'dead-letter' },
      handlers: {
        MoneyDeposited: () => {
          throw new Error('unlucky');
        },
      },
    });
    const runner = new ProjectionRunner({ store, projections: [poisoned], logger: recordingLogger(lines) });
    await runner.start();
    const event = MoneyDeposited.create(
      { accountId: 'a', amount: { value: 1, currency: 'EUR' } },
      { id: uuidv7() },
    );
    await store.append('account-a', [event]);
    await runner.waitUntilCaughtUp();
    await runner.stop();
    expect(lines).toContainEqual([
      'warn',
      { projection: 'poisoned', err: expect.objectContaining({ message: 'unlucky' }) },
      `Projection poisoned skipped event ${event.id} after 1 attempts; recorded as a dead letter.`,
    ]);
    await store.close();
  });
});

describe('without an OpenTelemetry SDK', () => {
  it('nothing is recorded and no event metadata changes', async () => {
    const probe = trace.getTracer('probe').startSpan('probe');
    expect(probe.isRecording(), 'no SDK is registered in this file').toBe(false);
    probe.end();
    const store = new InMemoryEventStore({ events: bankEvents });
    const { bus } = registerAnnals(container.createChildContainer(), {
      store,
      handlers: [OpenAccountHandler, DepositHandler],
    });
    expect(bus).toBeInstanceOf(CommandBus);
    await bus.execute(OpenAccount, { accountId: 'a', owner: 'Ada' });
    await trace
      .getTracer('probe')
      .startActiveSpan('outer', (span) =>
        bus.execute(Deposit, { accountId: 'a', amount: 5 }).finally(() => span.end()),
      );
    const events = await toArray(store.readStream('BankAccount-a'));
    expect(events).toHaveLength(2);
    for (const event of events) expect(Object.keys(event.metadata)).not.toContain(TRACE_CONTEXT_METADATA_KEY);
    await store.close();
  });
});
