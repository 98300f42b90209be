/**
 * The names Annals gives its spans, metrics and attributes (documented in
 * docs/guides/observability.md). Internal: one place, so a name is written once.
 */

/** The instrumentation scope of every tracer and meter. */
export const SCOPE = '@annals/core';

/** Attribute keys. */
export const ATTR = {
  commandName: 'annals.command.name',
  commandOutcome: 'annals.command.outcome',
  commandRetries: 'annals.command.retries',
  aggregateType: 'annals.aggregate.type',
  streamId: 'annals.stream.id',
  appendEventCount: 'annals.append.event_count',
  appendExpectedRevision: 'annals.append.expected_revision',
  appendPosition: 'annals.append.position',
  appendConflict: 'annals.append.conflict',
  appendOutcome: 'annals.append.outcome',
  projectionName: 'annals.projection.name',
  projectionKey: 'annals.projection.key',
  batchEventCount: 'annals.batch.event_count',
  batchFirstPosition: 'annals.batch.first_position',
  batchLastPosition: 'annals.batch.last_position',
  batchOutcome: 'annals.batch.outcome',
  lagEvents: 'annals.projection.lag.events',
  lagTime: 'annals.projection.lag.time',
  wakeupReason: 'annals.subscription.wakeup_reason',
  errorType: 'error.type',
} as const;

/** Metric names. */
export const METRIC = {
  commandDuration: 'annals.command.duration',
  appendDuration: 'annals.append.duration',
  appendConflicts: 'annals.append.conflicts',
  batchDuration: 'annals.projection.batch.duration',
  lagEvents: 'annals.projection.lag.events',
  lagTime: 'annals.projection.lag.time',
  deadLetters: 'annals.projection.dead_letters',
  wakeups: 'annals.subscription.wakeups',
} as const;

/** How an operation ended: `success`, `conflict` (a `ConcurrencyConflict`) or `error` (anything else). */
export type Outcome = 'success' | 'conflict' | 'error';
