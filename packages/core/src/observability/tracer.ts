import { ProxyTracerProvider, type Tracer, type TracerProvider, trace } from '@opentelemetry/api';
import { SCOPE } from './names.js';

let resolvedFor: TracerProvider | undefined;
let current: Tracer | undefined;

/**
 * The tracer every Annals span comes from. The API hands out a proxy that follows the SDK the
 * application registers, before or after this module loads (with none, its spans are no-ops); it is
 * looked up again when the global provider object changes (after `trace.disable()`).
 */
export function tracer(): Tracer {
  const provider = trace.getTracerProvider();
  if (provider !== resolvedFor || current === undefined) {
    resolvedFor = provider;
    current = provider.getTracer(SCOPE);
  }
  return current;
}

/** The API's no-op provider: what its global proxy delegates to while no SDK is registered. */
const NO_SDK = new ProxyTracerProvider().getDelegate();

/**
 * True when no tracer provider is registered (the global proxy still delegates to the no-op one):
 * then a span would be a no-op, and Annals does not even create one. A provider registered through
 * another copy of the API is never taken for none.
 */
export function tracingOff(): boolean {
  const provider = trace.getTracerProvider();
  return provider instanceof ProxyTracerProvider && provider.getDelegate() === NO_SDK;
}
