import type { CommandLogger } from '@annals/core';
import { UsageError } from './cli.js';

/** What the example wires for observability, from the environment. */
export interface Observability {
  /** The logger Annals reports to: pino when asked for, else Annals' default (the console). */
  readonly logger: CommandLogger | undefined;
  /** Flushes and unregisters what was set up (exports the last metrics). */
  shutdown(): Promise<void>;
}

// #region observability
/**
 * `ANNALS_OTEL=console`: registers the OpenTelemetry SDK (tracer and meter providers, the async
 * context manager and the W3C propagator) with exporters that print spans and metrics on the
 * console. `ANNALS_LOGGER=pino`: Annals logs through pino (JSON lines on stdout). Neither is loaded
 * otherwise: the default run needs no SDK and no pino, and Annals' instrumentation stays a no-op.
 */
export async function setUpObservability(
  env: Readonly<Record<string, string | undefined>>,
): Promise<Observability> {
  const shutdowns: (() => Promise<void>)[] = [];
  if (env.ANNALS_OTEL === 'console') {
    const { metrics } = await import('@opentelemetry/api');
    const { ConsoleSpanExporter, NodeTracerProvider, SimpleSpanProcessor } = await import(
      '@opentelemetry/sdk-trace-node'
    );
    const { ConsoleMetricExporter, MeterProvider, PeriodicExportingMetricReader } = await import(
      '@opentelemetry/sdk-metrics'
    );
    const tracing = new NodeTracerProvider({
      spanProcessors: [new SimpleSpanProcessor(new ConsoleSpanExporter())],
    });
    tracing.register(); // the global tracer provider, context manager and W3C propagator
    const meters = new MeterProvider({
      readers: [
        new PeriodicExportingMetricReader({
          exporter: new ConsoleMetricExporter(),
          exportIntervalMillis: 10_000,
        }),
      ],
    });
    metrics.setGlobalMeterProvider(meters);
    shutdowns.push(
      () => meters.shutdown(), // exports what was recorded since the last interval
      () => tracing.shutdown(),
    );
  } else if (env.ANNALS_OTEL !== undefined && env.ANNALS_OTEL !== '') {
    throw new UsageError(`ANNALS_OTEL must be "console" (or unset), found "${env.ANNALS_OTEL}".`);
  }
  let logger: CommandLogger | undefined;
  if (env.ANNALS_LOGGER === 'pino') {
    const { pino } = await import('pino');
    logger = pino({ name: 'bank-account' });
  } else if (env.ANNALS_LOGGER !== undefined && env.ANNALS_LOGGER !== '') {
    throw new UsageError(`ANNALS_LOGGER must be "pino" (or unset), found "${env.ANNALS_LOGGER}".`);
  }
  return {
    logger,
    async shutdown() {
      for (const shutdown of shutdowns) await shutdown();
    },
  };
}
// #endregion observability
