import { InvalidArgument } from '../errors/store-errors.js';
import type { AppendOptions } from './event-store.js';

/**
 * How far in the future an imported `recordedAt` may lie, in milliseconds (one minute): room for
 * the clocks of the exporting and the importing machine to differ, and no more.
 */
export const MAX_RECORDED_AT_SKEW_MS = 60_000;

/**
 * Checks `options.recordedAt` of an append of `count` events and returns it (undefined when it is
 * not given): it is allowed only with `import: true`, and must hold one valid `Date` per event, each
 * from 1970-01-01 to {@link MAX_RECORDED_AT_SKEW_MS} after `now`. Anything else is refused with
 * `InvalidArgument` naming the event, before anything is written. Every store calls it, so they
 * accept the same timestamps.
 *
 * @example
 * ```ts
 * const recordedAt = importedRecordedAt(streamId, options, prepared.length);
 * // then store recordedAt?.[i] ?? the time of this append as event i's recordedAt
 * ```
 */
export function importedRecordedAt(
  streamId: string,
  options: AppendOptions,
  count: number,
  now: number = Date.now(),
): readonly Date[] | undefined {
  const given = options?.recordedAt;
  if (given === undefined) return undefined;
  if (options.import !== true) {
    throw new InvalidArgument(
      `append to stream ${streamId}: recordedAt is only allowed with import: true (copying a log), found it without.`,
    );
  }
  if (!Array.isArray(given) || given.length !== count) {
    throw new InvalidArgument(
      `append to stream ${streamId}: recordedAt must hold one Date per event (${count}), found ${Array.isArray(given) ? `${given.length}` : typeof given}.`,
    );
  }
  const latest = now + MAX_RECORDED_AT_SKEW_MS;
  return given.map((value: unknown, index) => {
    const time = value instanceof Date ? value.getTime() : Number.NaN;
    if (Number.isNaN(time) || time < 0 || time > latest) {
      throw new InvalidArgument(
        `append to stream ${streamId}: recordedAt[${index}] must be a valid Date from 1970-01-01 to ${new Date(latest).toISOString()} (now plus ${MAX_RECORDED_AT_SKEW_MS / 1000} s of clock skew), found ${describe(value)}.`,
      );
    }
    return new Date(time);
  });
}

function describe(value: unknown): string {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'an invalid Date' : value.toISOString();
  return value === null ? 'null' : `a ${typeof value} (${String(value)})`;
}
