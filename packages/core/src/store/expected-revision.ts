import type { ExpectedRevisionValue } from '../errors/store-errors.js';
import { ConcurrencyError, InvalidArgument } from '../errors/store-errors.js';
import type { ExpectedRevision } from './event-store.js';

/** Normalises an expected revision (numbers become bigints) and rejects values outside the contract. */
export function normalizeExpectedRevision(
  streamId: string,
  value: ExpectedRevision | undefined,
): ExpectedRevisionValue {
  if (value === undefined) return 'any';
  if (value === 'any' || value === 'no_stream' || value === 'stream_exists') return value;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  if (typeof value === 'bigint' && value >= 0n) return value;
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
 * Throws {@link ConcurrencyError} unless `actual` (the stream's last revision, or `'no_stream'`)
 * satisfies `expected`. Adapters that check in the database use it to build the same error.
 */
export function assertExpectedRevision(
  streamId: string,
  expected: ExpectedRevisionValue,
  actual: bigint | 'no_stream',
): void {
  if (!expectedRevisionHolds(expected, actual)) throw new ConcurrencyError(streamId, expected, actual);
}

/** Normalises an optional non-negative bigint option (`fromRevision`, `fromPosition`). */
export function toBigIntOption(name: string, value: bigint | number | undefined): bigint | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'bigint' && value >= 0n) return value;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  throw new InvalidArgument(`${name} must be an integer >= 0, found ${String(value)}.`);
}

/** Normalises `maxCount`: a positive integer or undefined. */
export function toMaxCount(value: number | undefined): number {
  if (value === undefined) return Number.POSITIVE_INFINITY;
  if (Number.isSafeInteger(value) && value > 0) return value;
  throw new InvalidArgument(`maxCount must be a positive integer, found ${String(value)}.`);
}
