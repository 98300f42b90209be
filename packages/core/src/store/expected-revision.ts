import { assertEventQuery } from '../dcb/event-query.js';
import type { ExpectedRevisionValue } from '../errors/store-errors.js';
import { ConcurrencyConflict, InvalidArgument } from '../errors/store-errors.js';
import { describeLoneSurrogate, loneSurrogate } from '../events/well-formed-text.js';
import type { EventFilter, ExpectedRevision } from './event-store.js';
import { MAX_POSITION, MAX_REVISION } from './limits.js';

/**
 * Normalises an expected revision (numbers become bigints) and rejects values outside the contract:
 * a revision is an integer from 0 to {@link MAX_REVISION}.
 */
export function normalizeExpectedRevision(
  streamId: string,
  value: ExpectedRevision | undefined,
): ExpectedRevisionValue {
  if (value === undefined) return 'any';
  if (value === 'any' || value === 'no_stream' || value === 'stream_exists') return value;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  if (typeof value === 'bigint' && value >= 0n) {
    if (value <= MAX_REVISION) return value;
    throw new InvalidArgument(
      `expectedRevision for stream ${streamId} must be at most ${MAX_REVISION} (2^63 - 1, MAX_REVISION), the highest revision a stream can reach; found ${value}.`,
    );
  }
  throw new InvalidArgument(
    `expectedRevision for stream ${streamId} must be a revision >= 0, 'any', 'no_stream' or 'stream_exists'; found ${String(value)}.`,
  );
}

/** True when `actual` (the stream's last revision, or `'no_stream'`) satisfies `expected`. */
export function expectedRevisionHolds(
  expected: ExpectedRevisionValue,
  actual: bigint | 'no_stream',
): boolean {
  return (
    expected === 'any' ||
    (expected === 'no_stream' && actual === 'no_stream') ||
    (expected === 'stream_exists' && actual !== 'no_stream') ||
    (typeof expected === 'bigint' && actual === expected)
  );
}

/**
 * Throws {@link ConcurrencyConflict} unless `actual` (the stream's last revision, or `'no_stream'`)
 * satisfies `expected`. Adapters that check in the database use it to build the same error.
 */
export function assertExpectedRevision(
  streamId: string,
  expected: ExpectedRevisionValue,
  actual: bigint | 'no_stream',
): void {
  if (!expectedRevisionHolds(expected, actual)) throw new ConcurrencyConflict(streamId, expected, actual);
}

/**
 * Normalises an optional revision or position option (`fromRevision`, `fromPosition`, a revision to
 * load at): an integer from 0 to {@link MAX_REVISION} (= {@link MAX_POSITION}), given as a bigint or a
 * safe integer. Throws `InvalidArgument` naming the option otherwise.
 */
export function toBigIntOption(name: string, value: bigint | number | undefined): bigint | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'bigint' && value >= 0n) {
    if (value <= MAX_POSITION) return value;
    throw new InvalidArgument(
      `${name} must be at most ${MAX_POSITION} (2^63 - 1), the highest revision or position a store can hold; found ${value}.`,
    );
  }
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  throw new InvalidArgument(`${name} must be an integer >= 0, found ${String(value)}.`);
}

/** Normalises `maxCount`: a positive integer or undefined. */
export function toMaxCount(value: number | undefined): number {
  if (value === undefined) return Number.POSITIVE_INFINITY;
  if (Number.isSafeInteger(value) && value > 0) return value;
  throw new InvalidArgument(`maxCount must be a positive integer, found ${String(value)}.`);
}

/**
 * Checks a `readAll`/`subscribeToAll` filter: an object whose `types` is an array of strings and whose
 * `streamPrefix` is a string, none holding the NUL character or a lone surrogate (text no store keeps). Throws `InvalidArgument` naming what
 * was found; returns the filter (undefined when none was given).
 */
export function assertEventFilter(filter: EventFilter | undefined): EventFilter | undefined {
  if (filter === undefined || filter === null) return undefined;
  if (typeof filter !== 'object') {
    throw new InvalidArgument(`filter must be an object, found ${String(filter)}.`);
  }
  const { types, streamPrefix, query } = filter;
  if (query !== undefined) assertEventQuery(query, 'filter.query');
  if (types !== undefined && (!Array.isArray(types) || types.some((t) => typeof t !== 'string'))) {
    throw new InvalidArgument(`filter.types must be an array of strings, found ${JSON.stringify(types)}.`);
  }
  if (streamPrefix !== undefined && typeof streamPrefix !== 'string') {
    throw new InvalidArgument(`filter.streamPrefix must be a string, found ${String(streamPrefix)}.`);
  }
  for (const value of [streamPrefix, ...(types ?? [])]) {
    if (value?.includes('\u0000')) {
      throw new InvalidArgument(
        `filter values must not contain the NUL character (\\u0000); found ${JSON.stringify(value)}.`,
      );
    }
    const surrogate = value === undefined ? undefined : loneSurrogate(value);
    if (surrogate !== undefined) {
      throw new InvalidArgument(
        `filter values must be well-formed UTF-16 text; found ${describeLoneSurrogate(surrogate)} of ${JSON.stringify(value)}.`,
      );
    }
  }
  return filter;
}
