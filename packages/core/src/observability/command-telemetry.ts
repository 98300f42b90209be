import { context, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { CommandContext } from '../context/command-context.js';
import { bypassed } from './bypass.js';
import { instruments } from './instruments.js';
import { ATTR, type Outcome } from './names.js';
import { errorType, failureOutcome } from './outcome.js';
import { carriesContext } from './trace-context.js';
import { tracer, tracingOff } from './tracer.js';

/** The recording span of each command being executed, for the repository to name what it saved. */
const spans = new WeakMap<CommandContext, Span>();

/**
 * Runs one command's pipeline in an `annals.command <name>` span (command name, then the aggregate
 * type and stream id it saved, its outcome and retries) and records its duration by name and
 * outcome. With no OpenTelemetry SDK registered, runs `work` as it is.
 *
 * @param handler counts the runs of the handler (a retry runs it again).
 */
export function traceCommand<R>(
  command: CommandContext,
  handler: { readonly runs: number },
  work: () => Promise<R>,
): Promise<R> {
  if (bypassed) return work();
  const meters = instruments();
  // No SDK and no metrics: nothing to do, not even a no-op span.
  if (meters === undefined && tracingOff()) return work();
  const active = context.active();
  const span = tracer().startSpan(
    `annals.command ${command.commandType}`,
    { kind: SpanKind.INTERNAL },
    active,
  );
  const recording = span.isRecording();
  const propagate = carriesContext(span);
  if (!propagate && meters === undefined) return work();
  if (recording) {
    span.setAttribute(ATTR.commandName, command.commandType);
    spans.set(command, span);
  }
  const started = meters === undefined ? 0 : performance.now();
  const finish = (outcome: Outcome, error: unknown) => {
    meters?.commandDuration.record((performance.now() - started) / 1000, {
      [ATTR.commandName]: command.commandType,
      [ATTR.commandOutcome]: outcome,
    });
    if (!recording) return span.end();
    spans.delete(command);
    span.setAttribute(ATTR.commandOutcome, outcome);
    span.setAttribute(ATTR.commandRetries, Math.max(0, handler.runs - 1));
    if (error !== undefined) {
      span.setAttribute(ATTR.errorType, errorType(error));
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.message ?? String(error) });
    }
    span.end();
  };
  const pending = propagate ? context.with(trace.setSpan(active, span), work) : work();
  return pending.then(
    (result) => {
      finish('success', undefined);
      return result;
    },
    (error: unknown) => {
      finish(failureOutcome(error), error);
      throw error;
    },
  );
}

/**
 * Records on the span of the command executing (if it is traced) the aggregate it saved: its type
 * and stream id (the last one, when a command saves several).
 */
export function noteSavedAggregate(
  command: CommandContext | undefined,
  aggregateType: string,
  streamId: string,
): void {
  if (command === undefined) return;
  const span = spans.get(command);
  if (span === undefined) return;
  span.setAttribute(ATTR.aggregateType, aggregateType);
  span.setAttribute(ATTR.streamId, streamId);
}
