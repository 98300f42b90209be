import { type Tracer, type TracerProvider, trace } from '@opentelemetry/api';
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
