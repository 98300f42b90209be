import {
  type AppendOptions,
  type AppendResult,
  defineProjection,
  type EventStore,
  InMemoryEventStore,
  isAnnalsError,
  type NewEvent,
  ProjectionRunner,
  type RecordedEvent,
  retryOnConcurrency,
  silentLogger,
  TRACE_CONTEXT_METADATA_KEY,
  uuidv7,
} from '@annals/core';
import { registerAnnals } from '@annals/core/tsyringe';
import { PostgresEventStore } from '@annals/postgres';
import { toArray } from '@annals/testing';
import type { PGlite } from '@electric-sql/pglite';
import { SpanKind, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { container } from 'tsyringe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Deposit,
  DepositHandler,
  OpenAccount,
  OpenAccountHandler,
  Withdraw,
  WithdrawHandler,
} from '../../examples/bank-account/src/application/commands.js';
import { bankEvents, MoneyDeposited } from '../../examples/bank-account/src/domain/index.js';
import { databaseUrl, useServerSchemas } from '../conformance/support/postgres-server.js';
import { startPGlite } from '../support/pglite.js';
import { countOf, type InMemorySdk, pointsOf, registerInMemorySdk } from './otel-sdk.js';

let sdk: InMemorySdk;
let pglite: PGlite;

beforeAll(async () => {
  sdk = registerInMemorySdk();
  pglite = await startPGlite();
});

afterAll(async () => {
  await sdk.shutdown();
  await pglite.close();
});

const schemaOnServer = useServerSchemas('otel');

const stores: [string, () => Promise<EventStore>][] = [
  ['the in-memory store', async () => new InMemoryEventStore({ events: bankEvents })],
  [
    'PostgresEventStore on PGlite',
    async () => {
      const store = await PostgresEventStore.create({ pglite }, { events: bankEvents, schema: 'otel_test' });
      await store.migrate();
      return store;
    },
  ],
  // On a server when DATABASE_URL is set (CI sets it), in a schema of its own.
  ...(databaseUrl === undefined
    ? []
    : [
        [
          'PostgresEventStore on a server',
          async () => {
            const store = await PostgresEventStore.create(
              { connectionString: databaseUrl! },
              { events: bankEvents, schema: schemaOnServer() },
            );
            await store.migrate();
            return store;
          },
        ] as [string, () => Promise<EventStore>],
      ]),
];

/**
 * `store`, except that the first append of a `MoneyDeposited` to `streamId` is preceded by another
 * writer's append of the same events (new ids): the append meant to come first meets a
 * `ConcurrencyConflict`.
 */
function racingOnce(store: EventStore, streamId: string): EventStore {
  let raced = false;
  return {
    capabilities: store.capabilities,
    async append(id: string, events: readonly NewEvent[], options?: AppendOptions): Promise<AppendResult> {
      if (!raced && id === streamId && events[0]?.type === 'MoneyDeposited') {
        raced = true;
        await store.append(
          id,
          events.map(({ type, data }) => ({ type, data })),
          { expectedRevision: 'any' },
        );
      }
      return store.append(id, events, options);
    },
    readStream: (id, options) => store.readStream(id, options),
    readAll: (options) => store.readAll(options),
    subscribeToStream: (id, options) => store.subscribeToStream(id, options),
    subscribeToAll: (options) => store.subscribeToAll(options),
    close: (options) => store.close(options),
  };
}

const named = (spans: ReadableSpan[], name: string) => spans.filter((s) => s.name === name);
const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;

describe.each(stores)('telemetry on %s', (_, open) => {
  let store: EventStore;

  beforeAll(async () => {
    store = await open();
  });

  afterAll(async () => {
    await store.close();
  });

  it('traces a command through the bus, its append and the projection batch that applies it, and records the metrics', async () => {
    await sdk.reset();
    const { bus } = registerAnnals(container.createChildContainer(), {
      store: racingOnce(store, 'BankAccount-racer'),
      handlers: [OpenAccountHandler, DepositHandler, WithdrawHandler],
      middleware: [retryOnConcurrency({ sleep: async () => {} })],
    });
    const applied: RecordedEvent[] = [];
    const balances = defineProjection({
      name: 'otel-balances',
      events: [MoneyDeposited],
      handlers: { MoneyDeposited: (e) => void applied.push(e) },
    });
    const poisoned = defineProjection({
      name: 'otel-poisoned',
      events: [MoneyDeposited],
      failure: { retries: 0, backoff: { initialDelayMs: 1, maxDelayMs: 1 }, onExhausted: 'dead-letter' },
      handlers: {
        MoneyDeposited: (e) => {
          if (e.data.amount.value === 13) throw new Error('unlucky amount');
        },
      },
    });
    const runner = new ProjectionRunner({ store, projections: [balances, poisoned], logger: silentLogger });
    await runner.start();
    try {
      await bus.execute(OpenAccount, { accountId: 'ada', owner: 'Ada' });
      await bus.execute(Deposit, { accountId: 'ada', amount: 13 });
      await bus.execute(OpenAccount, { accountId: 'racer', owner: 'Bob' });
      // The first attempt meets the racing writer's events and is retried.
      await bus.execute(Deposit, { accountId: 'racer', amount: 7 });
      const refused = await bus
        .execute(Withdraw, { accountId: 'ada', amount: 1000 })
        .catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(Error);
      await runner.waitUntilCaughtUp();
    } finally {
      await runner.stop();
    }

    const spans = sdk.spans();
    const onStream = (name: string, streamId: string) =>
      named(spans, name).find((s) => s.attributes['annals.stream.id'] === streamId);
    const deposit = onStream('annals.command Deposit', 'BankAccount-ada');
    const [withdraw] = named(spans, 'annals.command Withdraw');
    expect(onStream('annals.command OpenAccount', 'BankAccount-ada'), 'a span for OpenAccount').toBeDefined();
    expect(deposit, 'a span for the Deposit command').toBeDefined();
    expect(deposit!.attributes).toEqual({
      'annals.command.name': 'Deposit',
      'annals.aggregate.type': 'BankAccount',
      'annals.stream.id': 'BankAccount-ada',
      'annals.command.outcome': 'success',
      'annals.command.retries': 0,
    });
    expect(withdraw?.attributes).toMatchObject({
      'annals.command.name': 'Withdraw',
      'annals.command.outcome': 'error',
      'annals.command.retries': 0,
    });

    // The racing deposit: retried once after the conflict, then a success.
    expect(onStream('annals.command Deposit', 'BankAccount-racer')?.attributes).toMatchObject({
      'annals.command.outcome': 'success',
      'annals.command.retries': 1,
    });

    // Each append is a child of its command's span, with the batch it wrote.
    const appends = named(spans, 'annals.append');
    const depositAppend = appends.find((s) => parentOf(s) === deposit!.spanContext().spanId);
    const storedDeposit = (await toArray(store.readStream('BankAccount-ada'))).find(
      (e) => e.type === 'MoneyDeposited',
    )!;
    expect(depositAppend?.kind).toBe(SpanKind.INTERNAL);
    expect(depositAppend?.attributes).toEqual({
      'annals.stream.id': 'BankAccount-ada',
      'annals.append.event_count': 1,
      'annals.append.expected_revision': '0',
      'annals.append.position': storedDeposit.position.toString(),
      'annals.append.conflict': false,
    });
    const conflicts = appends.filter((s) => s.attributes['annals.append.conflict'] === true);
    expect(conflicts.map((s) => s.attributes['annals.stream.id'])).toEqual(['BankAccount-racer']);
    expect(conflicts[0]!.attributes['error.type']).toBe('CONCURRENCY_CONFLICT');

    // The event carries the context of the command that caused it.
    const { traceId, spanId } = deposit!.spanContext();
    expect(storedDeposit.metadata[TRACE_CONTEXT_METADATA_KEY]).toEqual({
      traceparent: `00-${traceId}-${spanId}-01`,
    });

    // The projection's batch that applied the deposit links to the Deposit command's span.
    const batches = named(spans, 'annals.projection.batch otel-balances');
    const batch = batches.find((s) => s.links.some((l) => l.context.spanId === spanId));
    expect(
      batch,
      `a batch span of otel-balances linked to the Deposit command span ${spanId} (deposit at ${storedDeposit.position}); ` +
        `applied: ${applied.map((e) => `${e.position}:${e.streamId}`).join(', ')}; batches: ` +
        batches
          .map(
            (s) =>
              `${s.attributes['annals.batch.first_position']}..${s.attributes['annals.batch.last_position']} ` +
              `${s.attributes['annals.batch.outcome']} links ${s.links.map((l) => l.context.spanId).join('/')}`,
          )
          .join('; '),
    ).toBeDefined();
    expect(batch!.kind).toBe(SpanKind.CONSUMER);
    expect(batch!.parentSpanContext, 'a batch span starts its own trace').toBeUndefined();
    expect(batch!.links.find((l) => l.context.spanId === spanId)?.context.traceId).toBe(traceId);
    const positions = applied.map((e) => e.position);
    expect(batch!.attributes).toMatchObject({
      'annals.projection.name': 'otel-balances',
      'annals.projection.key': 'otel-balances',
      'annals.batch.outcome': 'success',
    });
    const first = BigInt(batch!.attributes['annals.batch.first_position'] as string);
    const last = BigInt(batch!.attributes['annals.batch.last_position'] as string);
    expect(positions).toContain(storedDeposit.position);
    expect(first <= storedDeposit.position && storedDeposit.position <= last).toBe(true);
    expect(batch!.attributes['annals.batch.event_count']).toBe(
      positions.filter((p) => p >= first && p <= last).length,
    );
    expect(typeof batch!.attributes['annals.projection.lag.events']).toBe('number');

    const collected = await sdk.collect();
    const commandPoints = pointsOf(collected, 'annals.command.duration');
    const commandCount = (name: string, outcome: string) =>
      commandPoints
        .filter(
          (p) =>
            p.attributes['annals.command.name'] === name &&
            p.attributes['annals.command.outcome'] === outcome,
        )
        .reduce((n, p) => n + countOf(p), 0);
    expect(commandCount('OpenAccount', 'success')).toBe(2);
    expect(commandCount('Deposit', 'success')).toBe(2);
    expect(commandCount('Withdraw', 'error')).toBe(1);
    const appendCount = (outcome: string) =>
      pointsOf(collected, 'annals.append.duration')
        .filter((p) => p.attributes['annals.append.outcome'] === outcome)
        .reduce((n, p) => n + countOf(p), 0);
    // ada and the racer opened, ada deposited, the racing writer, the racer's retried deposit.
    expect(appendCount('success')).toBe(5);
    expect(appendCount('conflict')).toBe(1);
    expect(pointsOf(collected, 'annals.append.conflicts').map((p) => p.value)).toEqual([1]);
    const batchPoints = pointsOf(collected, 'annals.projection.batch.duration').filter(
      (p) => p.attributes['annals.projection.name'] === 'otel-balances',
    );
    expect(batchPoints.reduce((n, p) => n + countOf(p), 0)).toBe(batches.length);
    // The gauge follows every change of the lag: its last value is what the stopped runner reports.
    const lag = pointsOf(collected, 'annals.projection.lag.events').find(
      (p) => p.attributes['annals.projection.name'] === 'otel-balances',
    );
    expect(lag?.value, 'the last lag recorded').toBe(runner.status('otel-balances')?.lag.events);
    const lagTime = pointsOf(collected, 'annals.projection.lag.time').find(
      (p) => p.attributes['annals.projection.name'] === 'otel-balances',
    );
    expect(lagTime?.value).toBeGreaterThanOrEqual(0);
    expect(pointsOf(collected, 'annals.projection.dead_letters')).toEqual([
      expect.objectContaining({
        attributes: { 'annals.projection.name': 'otel-poisoned', 'annals.projection.key': 'otel-poisoned' },
        value: 1,
      }),
    ]);
    const wakeups = pointsOf(collected, 'annals.subscription.wakeups');
    expect(
      wakeups.filter((p) => p.attributes['annals.subscription.wakeup_reason'] === 'notified').length,
      'idle subscriptions woken by appends',
    ).toBeGreaterThan(0);
  });

  it('a re-append of the same events from another trace is still idempotent', async () => {
    const tracer = trace.getTracer('test');
    const event = MoneyDeposited.create(
      { accountId: 'eve', amount: { value: 5, currency: 'EUR' } },
      { id: uuidv7() },
    );
    const inSpan = <T>(name: string, fn: () => Promise<T>) =>
      tracer.startActiveSpan(name, (span) => fn().finally(() => span.end()));
    const first = await inSpan('first request', () =>
      store.append('retried', [event], { expectedRevision: 'any' }),
    );
    const again = await inSpan('retry from another request', () =>
      store.append('retried', [event], { expectedRevision: 'any' }),
    );
    expect(again).toEqual(first);
    const stored = await toArray(store.readStream('retried'));
    expect(stored).toHaveLength(1);
    const firstSpan = named(sdk.spans(), 'first request')[0]!;
    expect(stored[0]!.metadata[TRACE_CONTEXT_METADATA_KEY]).toEqual({
      traceparent: `00-${firstSpan.spanContext().traceId}-${firstSpan.spanContext().spanId}-01`,
    });
  });

  it('appendToStreams runs in one annals.append span naming its streams, and stamps the caller’s trace context on every event', async () => {
    await sdk.reset();
    const tracer = trace.getTracer('test');
    const deposit = (accountId: string) =>
      MoneyDeposited.create({ accountId, amount: { value: 1, currency: 'EUR' } });
    await tracer.startActiveSpan('transfer request', (span) =>
      store.appendToStreams!([
        { streamId: 'multi-a', events: [deposit('a'), deposit('a')], expectedRevision: 'no_stream' },
        { streamId: 'multi-b', events: [deposit('b')] },
      ]).finally(() => span.end()),
    );
    const request = named(sdk.spans(), 'transfer request')[0]!;
    const [append, ...more] = named(sdk.spans(), 'annals.append');
    expect(more, 'one span for the whole call').toHaveLength(0);
    expect(parentOf(append!)).toBe(request.spanContext().spanId);
    expect(append!.attributes).toMatchObject({
      'annals.stream.id': 'multi-a,multi-b',
      'annals.append.event_count': 3,
    });
    const traceparent = `00-${request.spanContext().traceId}-${request.spanContext().spanId}-01`;
    for (const streamId of ['multi-a', 'multi-b']) {
      for (const event of await toArray(store.readStream(streamId))) {
        expect(event.metadata[TRACE_CONTEXT_METADATA_KEY], `${streamId}@${event.revision}`).toEqual({
          traceparent,
        });
      }
    }
  });

  it('bad input under an active span is refused with the same typed error as without one, nothing written', async () => {
    const tracer = trace.getTracer('test');
    const bad: unknown[][] = [[null], [{ type: 'Note', data: {}, metadata: 'not an object' }]];
    for (const events of bad) {
      const without = await store.append('bad-input', events as never).catch((e: unknown) => e);
      const within = await tracer
        .startActiveSpan('request', (span) =>
          store.append('bad-input', events as never).finally(() => span.end()),
        )
        .catch((e: unknown) => e);
      expect(isAnnalsError(without), `a typed error for ${JSON.stringify(events)}`).toBe(true);
      expect((within as { code?: string }).code).toBe((without as { code: string }).code);
    }
    await expect(toArray(store.readStream('bad-input'))).rejects.toMatchObject({ code: 'STREAM_NOT_FOUND' });
  });
});
