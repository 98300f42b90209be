import { context, metrics, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  AggregationTemporality,
  type DataPoint,
  type Histogram,
  InMemoryMetricExporter,
  MeterProvider,
  type MetricData,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';

/** The OpenTelemetry SDK registered globally, exporting to memory: what an application would wire. */
export interface InMemorySdk {
  /** The spans ended since the last `reset`. */
  spans(): ReadableSpan[];
  /** Collects the metrics recorded since the last collection (delta temporality). */
  collect(): Promise<MetricData[]>;
  /** Forgets the spans and the metrics recorded so far. */
  reset(): Promise<void>;
  /** Unregisters everything (the API is a no-op again). */
  shutdown(): Promise<void>;
}

/** Registers tracer and meter providers, the async context manager and the W3C propagator. */
export function registerInMemorySdk(): InMemorySdk {
  const spanExporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spanExporter)] });
  const metricExporter = new InMemoryMetricExporter(AggregationTemporality.DELTA);
  // Exports only when asked (forceFlush); the interval never fires during a test.
  const reader = new PeriodicExportingMetricReader({
    exporter: metricExporter,
    exportIntervalMillis: 3_600_000,
  });
  const meterProvider = new MeterProvider({ readers: [reader] });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(tracerProvider);
  metrics.setGlobalMeterProvider(meterProvider);
  const collect = async () => {
    metricExporter.reset();
    await reader.forceFlush();
    return metricExporter
      .getMetrics()
      .flatMap((resource) => resource.scopeMetrics)
      .filter((scope) => scope.scope.name === '@annals/core')
      .flatMap((scope) => scope.metrics);
  };
  return {
    spans: () => spanExporter.getFinishedSpans(),
    collect,
    async reset() {
      spanExporter.reset();
      await collect();
    },
    async shutdown() {
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
      trace.disable();
      metrics.disable();
      propagation.disable();
      context.disable();
    },
  };
}

/** The data points of metric `name` (empty when it was not recorded). */
export function pointsOf(collected: readonly MetricData[], name: string): DataPoint<unknown>[] {
  return collected
    .filter((m) => m.descriptor.name === name)
    .flatMap((m) => m.dataPoints as DataPoint<unknown>[]);
}

/** How many values a histogram point holds. */
export function countOf(point: DataPoint<unknown>): number {
  return (point.value as Histogram).count;
}
