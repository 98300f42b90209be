import {
  type Context,
  INVALID_SPAN_CONTEXT,
  type Link,
  propagation,
  ROOT_CONTEXT,
  type Span,
  trace,
} from '@opentelemetry/api';
import type { EventMetadata, NewEvent, RecordedEvent } from '../events/event-types.js';
import { withMetadata } from '../events/validated-event.js';

/**
 * The metadata key under which an append records the trace context of its caller: the fields the
 * registered propagator writes (with the W3C propagator, `traceparent` and, when there is one,
 * `tracestate`), as `{ "traceparent": "00-…-…-01" }`. Written only while a span is active and an
 * OpenTelemetry SDK is registered; an event that already has the key keeps its own. Stores ignore
 * this key when they compare a re-appended event with the stored one, so a retry from another trace
 * is still idempotent.
 */
export const TRACE_CONTEXT_METADATA_KEY = 'traceContext';

/** Most links a projection batch span carries (one per distinct causing span). */
const MAX_LINKS = 128;

/**
 * `events` with the trace context of `active` in their metadata (under
 * {@link TRACE_CONTEXT_METADATA_KEY}), or `events` itself when the context has no valid span or the
 * propagator writes nothing.
 */
export function withTraceContext(events: readonly NewEvent[], active: Context): readonly NewEvent[] {
  const carrier: Record<string, string> = {};
  propagation.inject(active, carrier);
  if (Object.keys(carrier).length === 0) return events;
  Object.freeze(carrier);
  return events.map((event) => {
    // What is not an event with object metadata goes on unchanged: the store refuses it, typed.
    if (typeof event !== 'object' || event === null) return event;
    const metadata: unknown = event.metadata;
    if (
      metadata !== undefined &&
      (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata))
    )
      return event;
    if ((metadata as EventMetadata | undefined)?.[TRACE_CONTEXT_METADATA_KEY] !== undefined) return event;
    return withMetadata(event, {
      ...(metadata as EventMetadata | undefined),
      [TRACE_CONTEXT_METADATA_KEY]: carrier,
    });
  });
}

/** The links to the spans that appended `events` (each distinct span once, at most 128). */
export function causingLinks(events: readonly RecordedEvent[]): Link[] {
  const links: Link[] = [];
  const seen = new Set<string>();
  for (const event of events) {
    const carrier = event.metadata[TRACE_CONTEXT_METADATA_KEY];
    if (typeof carrier !== 'object' || carrier === null) continue;
    const context = trace.getSpanContext(propagation.extract(ROOT_CONTEXT, carrier));
    if (context === undefined || !trace.isSpanContextValid(context)) continue;
    const id = `${context.traceId}-${context.spanId}`;
    if (seen.has(id)) continue;
    seen.add(id);
    links.push({ context });
    if (links.length >= MAX_LINKS) break;
  }
  return links;
}

/** `metadata` without the trace context key: what a re-append is compared on. */
export function withoutTraceContext(metadata: EventMetadata): EventMetadata {
  if (!(TRACE_CONTEXT_METADATA_KEY in metadata)) return metadata;
  const { [TRACE_CONTEXT_METADATA_KEY]: _, ...rest } = metadata;
  return rest;
}

/**
 * Whether a span is worth making active for `work`: it records, or it carries a valid context a
 * child should inherit (sampled out, or a propagated parent). With no SDK registered, neither.
 */
export function carriesContext(span: Span): boolean {
  if (span.isRecording()) return true;
  // The API's no-op span shares one invalid context: no validity check (two regexes) per operation.
  const spanContext = span.spanContext();
  return spanContext !== INVALID_SPAN_CONTEXT && trace.isSpanContextValid(spanContext);
}
