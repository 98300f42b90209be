import { InvalidArgument } from '@annals/core';

/** A required non-empty query parameter. */
export function required(name: string, value: string | undefined): string {
  if (value === undefined || value === '')
    throw new InvalidArgument(`The query parameter ${name} is required.`);
  return value;
}

/** A non-negative integer query parameter as a bigint (a revision or a position), or `fallback`. */
export function bigintParam(name: string, value: string | undefined, fallback: bigint): bigint {
  if (value === undefined || value === '') return fallback;
  if (!/^\d{1,19}$/.test(value)) {
    throw new InvalidArgument(`${name} expects a non-negative integer, found ${JSON.stringify(value)}.`);
  }
  return BigInt(value);
}

/** A count query parameter between 1 and `max`, or `fallback`. */
export function countParam(name: string, value: string | undefined, fallback: number, max: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > max) {
    throw new InvalidArgument(`${name} expects an integer from 1 to ${max}, found ${JSON.stringify(value)}.`);
  }
  return n;
}
