import { AnnalsError, hasErrorCode } from '../errors/annals-error.js';
import { InvalidArgument } from '../errors/store-errors.js';
import type { NewEvent } from '../events/event-types.js';
import type { ExpectedRevision } from '../store/event-store.js';
import { toBigIntOption } from '../store/expected-revision.js';
import { assertEventQuery, describeQuery, type EventQuery } from './event-query.js';

/**
 * The condition of a conditional append (the dcb.events append condition): the append fails with
 * {@link AppendConditionFailed}, writing nothing, when an event matching `failIfEventsMatch` lies in the
 * log after position `after` (anywhere in the log when `after` is left out). Checked atomically with
 * the write: no matching event can slip in between the check and the append.
 *
 * @example
 * ```ts
 * await store.append('course-c1', [StudentSubscribed.create({ courseId: 'c1', studentId: 's1' })], {
 *   condition: { failIfEventsMatch: { items: [{ tags: ['course:c1'] }] }, after: 41n },
 * });
 * ```
 */
export interface AppendCondition {
  readonly failIfEventsMatch: EventQuery;
  /** The position up to which the decision read the query: only later matching events conflict. */
  readonly after?: bigint | number;
}

/** One stream's part of an {@link EventStore.appendToStreams} call. */
export interface StreamWrite {
  readonly streamId: string;
  readonly events: readonly NewEvent[];
  /** Checked atomically with the whole call, as in `append`. Default `'any'`. */
  readonly expectedRevision?: ExpectedRevision;
}

/** Options of `appendToStreams`. */
export interface AppendToStreamsOptions {
  readonly condition?: AppendCondition;
}

/** The outcome of `appendToStreams`: one result per write, in the order given. */
export interface AppendToStreamsResult {
  readonly streams: readonly {
    readonly streamId: string;
    readonly nextExpectedRevision: bigint;
    readonly firstPosition: bigint;
    readonly lastPosition: bigint;
  }[];
  /** Global position of the first event written. */
  readonly firstPosition: bigint;
  /** Global position of the last event written. */
  readonly lastPosition: bigint;
}

/**
 * A conditional append found an event matching its condition's query after the condition's `after`
 * position. Nothing was written. Retry the decision: read the query again and decide anew
 * (`retryOnConcurrency` does so for a command handler).
 */
export class AppendConditionFailed extends AnnalsError {
  /** The query of the condition that failed. */
  readonly query: EventQuery;
  /** The condition's `after`, or undefined when it had none. */
  readonly after: bigint | undefined;
  /** The position of a matching event found after `after`, when the store tells it. */
  readonly conflictingPosition: bigint | undefined;

  constructor(query: EventQuery, after: bigint | undefined, conflictingPosition?: bigint) {
    super(
      'APPEND_CONDITION_FAILED',
      `The append condition failed: an event matching ${describeQuery(query)} lies ${
        after === undefined ? 'in the log' : `after position ${after}`
      }${conflictingPosition === undefined ? '' : ` (at position ${conflictingPosition})`}; nothing was written. Read the query again and decide anew.`,
    );
    this.query = query;
    this.after = after;
    this.conflictingPosition = conflictingPosition;
  }
}

/** True when `value` is an {@link AppendConditionFailed}, also across package copies. */
export function isAppendConditionFailed(value: unknown): value is AppendConditionFailed {
  return hasErrorCode(value, 'APPEND_CONDITION_FAILED');
}

/** A checked condition: its query and its `after` as a bigint. */
export interface CheckedCondition {
  readonly query: EventQuery;
  readonly after: bigint | undefined;
}

/** Checks an append condition (undefined when none); throws `InvalidArgument` naming what is wrong. */
export function checkAppendCondition(condition: AppendCondition | undefined): CheckedCondition | undefined {
  if (condition === undefined) return undefined;
  if (typeof condition !== 'object' || condition === null) {
    throw new InvalidArgument(
      `condition must be an object { failIfEventsMatch, after? }, found ${String(condition)}.`,
    );
  }
  const query = assertEventQuery(condition.failIfEventsMatch, 'condition.failIfEventsMatch');
  const after = toBigIntOption('condition.after', condition.after);
  return { query, after };
}

/** Checks the writes of `appendToStreams`: a non-empty array of `{ streamId, events }`, each stream once. */
export function checkStreamWrites(writes: readonly StreamWrite[]): void {
  if (!Array.isArray(writes) || writes.length === 0) {
    throw new InvalidArgument(
      `appendToStreams expects a non-empty array of { streamId, events, expectedRevision? }, found ${
        Array.isArray(writes) ? 'an empty array' : String(writes)
      }.`,
    );
  }
  const seen = new Set<string>();
  for (const [index, write] of writes.entries()) {
    if (typeof write !== 'object' || write === null) {
      throw new InvalidArgument(
        `appendToStreams: write #${index} must be an object, found ${String(write)}.`,
      );
    }
    if (seen.has(write.streamId)) {
      throw new InvalidArgument(
        `appendToStreams: stream ${write.streamId} is given twice; put all its events in one write.`,
      );
    }
    seen.add(write.streamId);
  }
}
