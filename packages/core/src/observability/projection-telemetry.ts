import { type Attributes, context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { RecordedEvent } from '../events/event-types.js';
import { bypassed } from './bypass.js';
import { instruments } from './instruments.js';
import { ATTR } from './names.js';
import { errorType } from './outcome.js';
import { causingLinks } from './trace-context.js';
import { tracer, tracingOff } from './tracer.js';

/** A projection's lag, as its status shows it. */
export interface LagReading {
  readonly events: number;
  readonly ms: number;
}

/**
 * The telemetry of one projection key (a projection or a shard): a span per batch, linked to the
 * spans whose appends produced its events; the batch duration, the lag and dead letters as metrics.
 * Attribute objects are built once per key, so a batch costs no allocation without an SDK.
 */
export class ProjectionTelemetry {
  readonly #name: string;
  readonly #lag: () => LagReading;
  readonly #attributes: Attributes;
  readonly #byOutcome: Readonly<Record<'success' | 'interrupted' | 'error', Attributes>>;

  constructor(name: string, key: string, lag: () => LagReading) {
    this.#name = name;
    this.#lag = lag;
    this.#attributes = Object.freeze({ [ATTR.projectionName]: name, [ATTR.projectionKey]: key });
    const withOutcome = (outcome: string) =>
      Object.freeze({ ...this.#attributes, [ATTR.batchOutcome]: outcome });
    this.#byOutcome = {
      success: withOutcome('success'),
      interrupted: withOutcome('interrupted'),
      error: withOutcome('error'),
    };
  }

  /**
   * Applies a batch in an `annals.projection.batch <name>` span, the root of its own trace, linked to
   * the spans that appended its events. `apply` resolves false when a stop interrupted the batch.
   */
  traceBatch(batch: readonly RecordedEvent[], apply: () => Promise<boolean>): Promise<boolean> {
    if (bypassed) return apply();
    const meters = instruments();
    if (meters === undefined && tracingOff()) return apply();
    const span = tracer().startSpan(`annals.projection.batch ${this.#name}`, {
      kind: SpanKind.CONSUMER,
      root: true,
    });
    const recording = span.isRecording();
    if (!recording && meters === undefined) {
      span.end();
      return apply();
    }
    if (recording) {
      const lag = this.#lag();
      span.setAttributes(this.#attributes);
      span.setAttribute(ATTR.batchEventCount, batch.length);
      span.setAttribute(ATTR.batchFirstPosition, batch[0]!.position.toString());
      span.setAttribute(ATTR.batchLastPosition, batch[batch.length - 1]!.position.toString());
      span.setAttribute(ATTR.lagEvents, lag.events);
      span.setAttribute(ATTR.lagTime, lag.ms / 1000);
      const links = causingLinks(batch);
      if (links.length > 0) span.addLinks(links);
    }
    const started = meters === undefined ? 0 : performance.now();
    const finish = (outcome: 'success' | 'interrupted' | 'error', error: unknown) => {
      meters?.batchDuration.record((performance.now() - started) / 1000, this.#byOutcome[outcome]);
      if (recording) {
        span.setAttribute(ATTR.batchOutcome, outcome);
        if (error !== undefined) {
          span.setAttribute(ATTR.errorType, errorType(error));
          span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.message ?? String(error) });
        }
      }
      span.end();
    };
    const pending = recording ? context.with(trace.setSpan(context.active(), span), apply) : apply();
    return pending.then(
      (applied) => {
        finish(applied ? 'success' : 'interrupted', undefined);
        return applied;
      },
      (error: unknown) => {
        finish('error', error);
        throw error;
      },
    );
  }

  /** Records the current lag (after a commit or a measurement). */
  recordLag(): void {
    const meters = instruments();
    if (meters === undefined) return;
    const lag = this.#lag();
    meters.lagEvents.record(lag.events, this.#attributes);
    meters.lagTime.record(lag.ms / 1000, this.#attributes);
  }

  /** Counts an event recorded as a dead letter. */
  deadLettered(): void {
    instruments()?.deadLetters.add(1, this.#attributes);
  }
}
