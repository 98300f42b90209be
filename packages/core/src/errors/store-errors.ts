import { AnnalsError, hasErrorCode } from './annals-error.js';
import { closestName } from './closest-name.js';

/** What an append expects of the stream it writes to. See {@link ExpectedRevision}. */
export type ExpectedRevisionValue = bigint | 'any' | 'no_stream' | 'stream_exists';

function describeExpected(expected: ExpectedRevisionValue): string {
  if (typeof expected === 'bigint') return `revision ${expected}`;
  if (expected === 'no_stream') return 'no stream';
  if (expected === 'stream_exists') return 'an existing stream';
  return 'any revision';
}

function describeActual(actual: bigint | 'no_stream'): string {
  return actual === 'no_stream' ? 'no stream' : `revision ${actual}`;
}

/**
 * An append's expected revision did not match the stream. Nothing of the batch was written.
 *
 * `expected` is what the caller asked for; `actual` is the stream's last revision, or `'no_stream'`.
 */
export class ConcurrencyConflict extends AnnalsError {
  readonly streamId: string;
  readonly expected: ExpectedRevisionValue;
  readonly actual: bigint | 'no_stream';
  /**
   * Why the append could not go ahead although `actual` satisfies `expected` (an adapter's ordering
   * rule, say); undefined for a plain revision conflict. Also ends the message.
   */
  readonly reason: string | undefined;

  /** @param reason see {@link ConcurrencyConflict.reason}. */
  constructor(
    streamId: string,
    expected: ExpectedRevisionValue,
    actual: bigint | 'no_stream',
    reason?: string,
  ) {
    super(
      'CONCURRENCY_CONFLICT',
      `Expected ${describeExpected(expected)} of stream ${streamId}, found ${describeActual(actual)}.` +
        (reason === undefined ? '' : ` ${reason}`),
    );
    this.streamId = streamId;
    this.expected = expected;
    this.actual = actual;
    this.reason = reason;
  }
}

/** True when `value` is a {@link ConcurrencyConflict}, also across package copies. */
export function isConcurrencyConflict(value: unknown): value is ConcurrencyConflict {
  return hasErrorCode(value, 'CONCURRENCY_CONFLICT');
}

/** One problem found by a schema, with the path inside the validated value. */
export interface ValidationIssue {
  readonly path: readonly (string | number)[];
  readonly message: string;
  readonly code: string;
}

/** Formats issues as `amount.value: Expected number, received string; ...`. */
export function formatIssues(issues: readonly ValidationIssue[]): string {
  return issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : '(root)'}: ${i.message}`).join('; ');
}

/** An event's data (or envelope) failed validation. Nothing of its batch was written. */
export class EventValidationFailed extends AnnalsError {
  readonly eventType: string;
  readonly streamId: string | undefined;
  readonly issues: readonly ValidationIssue[];

  constructor(eventType: string, streamId: string | undefined, issues: readonly ValidationIssue[]) {
    super(
      'EVENT_VALIDATION_FAILED',
      `Event ${eventType}${streamId === undefined ? '' : ` for stream ${streamId}`} is invalid: ${formatIssues(issues)}.`,
    );
    this.eventType = eventType;
    this.streamId = streamId;
    this.issues = issues;
  }
}

/**
 * A strict store was asked to append an event type it has no definition for. A store given event
 * definitions is strict unless created with `strict: false`. The message suggests the closest defined
 * type when one is near (a likely typo).
 */
export class UnknownEventType extends AnnalsError {
  readonly eventType: string;
  /** The defined type the unknown one is most likely a typo of, if any. */
  readonly suggestion: string | undefined;
  constructor(eventType: string, known: readonly string[]) {
    const suggestion = closestName(eventType, known);
    super(
      'UNKNOWN_EVENT_TYPE',
      `Event type ${eventType} is not defined.${suggestion === undefined ? '' : ` Did you mean ${suggestion}?`}` +
        ` This store knows ${known.length > 0 ? known.join(', ') : 'no types'}; define the type, or create the store with strict: false to store undefined types as plain JSON.`,
    );
    this.eventType = eventType;
    this.suggestion = suggestion;
  }
}

/** A stream that does not exist was read. */
export class StreamNotFound extends AnnalsError {
  readonly streamId: string;
  constructor(streamId: string) {
    super('STREAM_NOT_FOUND', `Stream ${streamId} does not exist.`);
    this.streamId = streamId;
  }
}

/**
 * An event id that is already stored was appended again with other content (or to another stream or
 * revision). A re-append of the identical batch is not an error: it returns the first result.
 */
export class IdempotencyConflict extends AnnalsError {
  readonly eventId: string;
  constructor(eventId: string, detail: string) {
    super('IDEMPOTENCY_CONFLICT', `Event id ${eventId} is already stored ${detail}.`);
    this.eventId = eventId;
  }
}

/** An argument was outside what the API accepts. The message names the argument, what was expected and what was found. */
export class InvalidArgument extends AnnalsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('INVALID_ARGUMENT', message, options);
  }
}

/** The store (or runner) was closed; no further calls are accepted. */
export class StoreClosed extends AnnalsError {
  constructor(what = 'event store') {
    super('STORE_CLOSED', `The ${what} is closed.`);
  }
}

/** An event's serialized size exceeds the store's limit. Nothing of its batch was written. */
export class EventTooLarge extends AnnalsError {
  readonly eventType: string;
  readonly size: number;
  readonly limit: number;
  constructor(eventType: string, streamId: string, size: number, limit: number) {
    super(
      'EVENT_TOO_LARGE',
      `Event ${eventType} for stream ${streamId} is ${size} bytes; the limit is ${limit} bytes.`,
    );
    this.eventType = eventType;
    this.size = size;
    this.limit = limit;
  }
}
