import { context, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { NewEvent } from '../events/event-types.js';
import type { AppendOptions, AppendResult } from '../store/event-store.js';
import { bypassed } from './bypass.js';
import { instruments } from './instruments.js';
import { ATTR, type Outcome } from './names.js';
import { errorType, failureOutcome } from './outcome.js';
import { carriesContext, withTraceContext } from './trace-context.js';
import { tracer, tracingOff } from './tracer.js';

const SUCCESS = Object.freeze({ [ATTR.appendOutcome]: 'success' });
const CONFLICT = Object.freeze({ [ATTR.appendOutcome]: 'conflict' });
const ERROR = Object.freeze({ [ATTR.appendOutcome]: 'error' });

/**
 * Instruments one append: what every store's `append` calls around its own work, so adapters do not
 * each write it. While a span is active, the events get its trace context in their metadata (see
 * `TRACE_CONTEXT_METADATA_KEY`); the append runs in an `annals.append` span (stream, event count,
 * expected revision, resulting position, conflict) and its duration and conflicts are recorded.
 * With no OpenTelemetry SDK registered, `append(events)` runs as it is, with the events unchanged.
 *
 * @param append the store's own append of the (possibly re-stamped) events.
 * @example
 * ```ts
 * async append(streamId: string, events: readonly NewEvent[], options: AppendOptions = {}) {
 *   return traceAppend(streamId, events, options, (batch) => this.#append(streamId, batch, options));
 * }
 * ```
 */
export function traceAppend(
  streamId: string,
  events: readonly NewEvent[],
  options: AppendOptions | undefined,
  append: (events: readonly NewEvent[]) => Promise<AppendResult>,
): Promise<AppendResult> {
  if (bypassed) return append(events);
  const meters = instruments();
  const active = context.active();
  const caller = trace.getSpan(active);
  // No SDK, no metrics, no span to pass on: nothing to do, not even a no-op span.
  if (meters === undefined && caller === undefined && tracingOff()) return append(events);
  const span = tracer().startSpan('annals.append', { kind: SpanKind.INTERNAL }, active);
  const recording = span.isRecording();
  if (!recording && meters === undefined && caller === undefined && !carriesContext(span)) {
    return append(events);
  }
  // Only the caller's context is recorded (not this append's span): a retry of the same events in
  // the same command carries the same metadata, and so stays an idempotent re-append.
  const batch = caller !== undefined && Array.isArray(events) ? withTraceContext(events, active) : events;
  if (recording) {
    span.setAttribute(ATTR.streamId, String(streamId));
    span.setAttribute(ATTR.appendEventCount, Array.isArray(events) ? events.length : 0);
    span.setAttribute(ATTR.appendExpectedRevision, String(options?.expectedRevision ?? 'any'));
  }
  const started = meters === undefined ? 0 : performance.now();
  const finish = (outcome: Outcome, result: AppendResult | undefined, error: unknown) => {
    if (meters !== undefined) {
      const seconds = (performance.now() - started) / 1000;
      meters.appendDuration.record(
        seconds,
        outcome === 'success' ? SUCCESS : outcome === 'conflict' ? CONFLICT : ERROR,
      );
      if (outcome === 'conflict') meters.appendConflicts.add(1);
    }
    if (recording) endAppendSpan(span, outcome, result, error);
    else span.end();
  };
  const run = () => append(batch);
  const pending = carriesContext(span) ? context.with(trace.setSpan(active, span), run) : run();
  return pending.then(
    (result) => {
      finish('success', result, undefined);
      return result;
    },
    (error: unknown) => {
      finish(failureOutcome(error), undefined, error);
      throw error;
    },
  );
}

function endAppendSpan(span: Span, outcome: Outcome, result: AppendResult | undefined, error: unknown): void {
  span.setAttribute(ATTR.appendConflict, outcome === 'conflict');
  if (result !== undefined) span.setAttribute(ATTR.appendPosition, result.lastPosition.toString());
  if (error !== undefined) {
    span.setAttribute(ATTR.errorType, errorType(error));
    span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.message ?? String(error) });
  }
  span.end();
}
