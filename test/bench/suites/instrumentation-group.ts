import 'reflect-metadata';
import { type EventStore, Repository } from '@annals/core';
import { registerAnnals } from '@annals/core/tsyringe';
import { createNoopMeter, metrics, trace } from '@opentelemetry/api';
import { container } from 'tsyringe';
import { bypassInstrumentation } from '../../../packages/core/src/observability/bypass.js';
import type { BenchGroup, GroupContext } from '../harness/group.js';
import { timeOperations } from '../harness/timing.js';
import type { MeasurementSpec, RoundSample } from '../harness/types.js';
import { uniqueName } from '../harness/unique.js';
import { BenchAccount, BenchDeposit, BenchDepositHandler } from '../workload/bench-account.js';
import { deposit } from '../workload/bench-events.js';
import { defaultMiddleware } from './aggregate-groups.js';
import { withStore } from './append-groups.js';

/** Refuses to measure "no SDK" in a process where one is registered. */
function assertNoSdk(): void {
  const span = trace.getTracer('annals-bench').startSpan('probe');
  const recording = span.isRecording();
  span.end();
  if (recording || metrics.getMeterProvider().getMeter('annals-bench') !== createNoopMeter()) {
    throw new Error('an OpenTelemetry SDK is registered: the overhead without one cannot be measured');
  }
}

/** Runs a round with the instrumentation bypassed, as if Annals had none. */
async function bypassing(round: () => Promise<RoundSample>): Promise<RoundSample> {
  bypassInstrumentation(true);
  try {
    return await round();
  } finally {
    bypassInstrumentation(false);
  }
}

/** What one of the two twin measurements does: its own setup and rounds. */
type Workload = Pick<MeasurementSpec, 'setup' | 'round' | 'teardown'>;

/**
 * Two twin measurements, each with its own workload from `make` (its own streams): instrumented
 * (compared with the other), and with the instrumentation bypassed.
 */
function twins(
  ctx: GroupContext,
  spec: Pick<MeasurementSpec, 'id' | 'title' | 'unit' | 'operation'>,
  make: () => Workload,
): MeasurementSpec[] {
  const bypassedId = `${spec.id}.bypassed`;
  const instrumented = make();
  const plain = make();
  return [
    {
      ...spec,
      ...instrumented,
      backend: ctx.backend.name,
      kind: 'annals',
      title: `${spec.title}, instrumented, no SDK registered`,
      compareWith: [{ id: bypassedId, backend: ctx.backend.name }],
    },
    {
      ...spec,
      ...plain,
      id: bypassedId,
      backend: ctx.backend.name,
      kind: 'annals',
      title: `${spec.title}, instrumentation bypassed`,
      round: (index) => bypassing(() => plain.round(index)),
    },
  ];
}

/**
 * What the OpenTelemetry instrumentation costs when no SDK is registered (the default): commands
 * through the bus and single-event appends, each measured instrumented and with the instrumentation
 * bypassed, round-robin in the same run. The instrumented figure's ratio to the bypassed one is the
 * overhead (1.00: none).
 */
export const instrumentationOverhead: BenchGroup = {
  name: 'instrumentation-overhead',
  backends: ['memory'],
  async build(ctx) {
    const { sizes } = ctx;
    assertNoSdk();
    const commands = (store: () => EventStore): Workload => {
      const scope = container.createChildContainer();
      const accounts = Array.from({ length: sizes.commands }, () => uniqueName('acc'));
      let bus: ReturnType<typeof registerAnnals>['bus'] | undefined;
      return {
        setup: async () => {
          ({ bus } = registerAnnals(scope, {
            store: store(),
            handlers: [BenchDepositHandler],
            middleware: defaultMiddleware(),
          }));
          const repository = new Repository(BenchAccount, { store: store() });
          for (const id of accounts) await store().append(repository.streamIdOf(id), [deposit(0)]);
        },
        round: () =>
          timeOperations({ operations: sizes.commands }, (i) =>
            bus!.execute(BenchDeposit, { accountId: accounts[i]!, amount: 100, note: 'bench' }),
          ),
        teardown: async () => scope.dispose(),
      };
    };
    const appends = (store: () => EventStore): Workload => ({
      round: () =>
        timeOperations({ operations: sizes.sequentialAppends }, (i) =>
          store().append(uniqueName('otel'), [deposit(i)], { expectedRevision: 'no_stream' }),
        ),
    });
    let specs: MeasurementSpec[] | undefined;
    const all = (store: () => EventStore) =>
      (specs ??= [
        ...twins(
          ctx,
          {
            id: 'instrumentation.command',
            title: 'commands through the bus, default middleware',
            unit: 'commands/s',
            operation: 'command: validate, load, raise, save',
          },
          () => commands(store),
        ),
        ...twins(
          ctx,
          {
            id: 'instrumentation.append',
            title: 'single-event appends to new streams, sequential',
            unit: 'events/s',
            operation: 'append of 1 event',
          },
          () => appends(store),
        ),
      ]);
    return withStore(
      ctx,
      [],
      [0, 1, 2, 3].map((i) => (store: () => EventStore) => all(store)[i]!),
    );
  },
};
