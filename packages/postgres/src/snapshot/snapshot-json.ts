import { InvalidArgument } from '@annals/core';

const BIGINT = '$annals:bigint';
const DATE = '$annals:date';

/**
 * Serialises a snapshot's state as JSON, keeping the two non-JSON values aggregates commonly hold
 * (bigint and Date) as tagged objects that {@link parseState} turns back. Values JSON would silently
 * change (Map, Set, functions, symbols, undefined at the top) are refused.
 */
export function stringifyState(streamId: string, state: unknown): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(state, function (this: Record<string, unknown>, key, value: unknown) {
      const raw = this[key];
      if (typeof raw === 'bigint') return { [BIGINT]: raw.toString() };
      if (raw instanceof Date) return { [DATE]: Number.isNaN(raw.getTime()) ? null : raw.toISOString() };
      if (raw instanceof Map || raw instanceof Set) {
        throw new Error(
          `${raw instanceof Map ? 'a Map' : 'a Set'} at ${key === '' ? 'the top' : `key ${key}`}`,
        );
      }
      return value;
    });
  } catch (cause) {
    throw new InvalidArgument(
      `The snapshot state of ${streamId} must be JSON data (bigint and Date allowed), found ${(cause as Error).message}.`,
      { cause },
    );
  }
  if (json === undefined) {
    throw new InvalidArgument(
      `The snapshot state of ${streamId} must be JSON data (bigint and Date allowed), found ${typeof state}.`,
    );
  }
  return json;
}

/** Parses what {@link stringifyState} wrote. */
export function parseState(json: string): unknown {
  return JSON.parse(json, (_key, value: unknown) => {
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      const keys = Object.keys(value);
      if (keys.length === 1) {
        const tagged = value as Record<string, unknown>;
        if (keys[0] === BIGINT && typeof tagged[BIGINT] === 'string') return BigInt(tagged[BIGINT]);
        if (keys[0] === DATE) return new Date(typeof tagged[DATE] === 'string' ? tagged[DATE] : Number.NaN);
      }
    }
    return value;
  });
}
