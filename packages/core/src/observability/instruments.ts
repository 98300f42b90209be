import {
  type Counter,
  createNoopMeter,
  type Gauge,
  type Histogram,
  type MeterProvider,
  metrics,
} from '@opentelemetry/api';
import { bypassed } from './bypass.js';
import { METRIC, SCOPE } from './names.js';

/** The instruments Annals records to. */
export interface Instruments {
  readonly commandDuration: Histogram;
  readonly appendDuration: Histogram;
  readonly appendConflicts: Counter;
  readonly batchDuration: Histogram;
  readonly lagEvents: Gauge;
  readonly lagTime: Gauge;
  readonly deadLetters: Counter;
  readonly wakeups: Counter;
}

/** Durations are recorded in seconds, as OpenTelemetry's semantic conventions do. */
const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

let resolvedFor: MeterProvider | undefined;
let current: Instruments | undefined;

/**
 * The instruments of the global meter provider, or undefined when none is registered (then nothing
 * is recorded and no attribute object needs building). Created again when the application registers
 * another provider: the metrics API has no proxy, so instruments made before registration would stay
 * no-ops.
 */
export function instruments(): Instruments | undefined {
  if (bypassed) return undefined;
  const provider = metrics.getMeterProvider();
  if (provider !== resolvedFor) {
    resolvedFor = provider;
    const meter = provider.getMeter(SCOPE);
    current = meter === createNoopMeter() ? undefined : create(meter);
  }
  return current;
}

function create(meter: ReturnType<MeterProvider['getMeter']>): Instruments {
  const duration = (name: string, description: string) =>
    meter.createHistogram(name, {
      description,
      unit: 's',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    });
  return {
    commandDuration: duration(METRIC.commandDuration, 'Time to execute a command through the bus.'),
    appendDuration: duration(METRIC.appendDuration, 'Time to append a batch to a stream.'),
    appendConflicts: meter.createCounter(METRIC.appendConflicts, {
      description: 'Appends refused with ConcurrencyConflict.',
      unit: '{conflict}',
    }),
    batchDuration: duration(METRIC.batchDuration, 'Time to apply and commit one projection batch.'),
    lagEvents: meter.createGauge(METRIC.lagEvents, {
      description: 'Events a projection has not applied yet.',
      unit: '{event}',
    }),
    lagTime: meter.createGauge(METRIC.lagTime, {
      description: 'Age of the oldest event a projection has not applied yet.',
      unit: 's',
    }),
    deadLetters: meter.createCounter(METRIC.deadLetters, {
      description: 'Events a projection skipped and recorded as dead letters.',
      unit: '{event}',
    }),
    wakeups: meter.createCounter(METRIC.wakeups, {
      description: 'Times an idle subscription woke to read again.',
      unit: '{wakeup}',
    }),
  };
}
