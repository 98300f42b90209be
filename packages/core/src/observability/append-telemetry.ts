import { type Context, context, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { AppendToStreamsResult, StreamWrite } from '../dcb/append-condition.js';
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
  return instrumentAppend(
    events,
    () => ({
      streamId: String(streamId),
      eventCount: Array.isArray(events) ? events.length : 0,
      expectedRevision: String(options?.expectedRevision ?? 'any'),
    }),
    (batch, active) => (Array.isArray(batch) ? withTraceContext(batch, active) : batch),
    append,
  );
}

/**
 * Instruments one `appendToStreams` call as {@link traceAppend} does one append: one `annals.append`
 * span for the whole call (its streams' ids, comma-separated, and their event count), the caller's
 * trace context stamped on every write's events, one duration and conflict recorded.
 */
export function traceAppendToStreams(
  writes: readonly StreamWrite[],
  append: (writes: readonly StreamWrite[]) => Promise<AppendToStreamsResult>,
): Promise<AppendToStreamsResult> {
  const valid = (w: unknown): w is StreamWrite =>
    typeof w === 'object' && w !== null && Array.isArray((w as StreamWrite).events);
  return instrumentAppend(
    writes,
    () => {
      const known = Array.isArray(writes) ? writes.filter(valid) : [];
      return {
        streamId: known.map((w) => String(w.streamId)).join(','),
        eventCount: known.reduce((n, w) => n + w.events.length, 0),
        expectedRevision: 'per stream',
      };
    },
    // What is not a write goes on unchanged: the store refuses it, typed.
    (batch, active) =>
      Array.isArray(batch)
        ? batch.map((w) => (valid(w) ? { ...w, events: withTraceContext(w.events, active) } : w))
        : batch,
    append,
  );
}

/** What an `annals.append` span says of the call before it runs. */
interface AppendAttributes {
  readonly streamId: string;
  readonly eventCount: number;
  readonly expectedRevision: string;
}

/**
 * The instrumentation of {@link traceAppend} and {@link traceAppendToStreams}: `stamp` puts the
 * caller's trace context into the input, `append` runs it.
 */
function instrumentAppend<I, R extends { readonly lastPosition: bigint }>(
  input: I,
  attributes: () => AppendAttributes,
  stamp: (input: I, active: Context) => I,
  append: (input: I) => Promise<R>,
): Promise<R> {
  if (bypassed) return append(input);
  const meters = instruments();
  const active = context.active();
  const caller = trace.getSpan(active);
  // No SDK, no metrics, no span to pass on: nothing to do, not even a no-op span.
  if (meters === undefined && caller === undefined && tracingOff()) return append(input);
  const span = tracer().startSpan('annals.append', { kind: SpanKind.INTERNAL }, active);
  const recording = span.isRecording();
  if (!recording && meters === undefined && caller === undefined && !carriesContext(span)) {
    return append(input);
  }
  // Only the caller's context is recorded (not this append's span): a retry of the same events in
  // the same command carries the same metadata, and so stays an idempotent re-append.
  const batch = caller !== undefined ? stamp(input, active) : input;
  if (recording) {
    const { streamId, eventCount, expectedRevision } = attributes();
    span.setAttribute(ATTR.streamId, streamId);
    span.setAttribute(ATTR.appendEventCount, eventCount);
    span.setAttribute(ATTR.appendExpectedRevision, expectedRevision);
  }
  const started = meters === undefined ? 0 : performance.now();
  const finish = (outcome: Outcome, result: R | undefined, error: unknown) => {
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

function endAppendSpan(
  span: Span,
  outcome: Outcome,
  result: { readonly lastPosition: bigint } | undefined,
  error: unknown,
): void {
  span.setAttribute(ATTR.appendConflict, outcome === 'conflict');
  if (result !== undefined) span.setAttribute(ATTR.appendPosition, result.lastPosition.toString());
  if (error !== undefined) {
    span.setAttribute(ATTR.errorType, errorType(error));
    span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.message ?? String(error) });
  }
  span.end();
}
