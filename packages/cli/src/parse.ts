import { InvalidArgument } from '@annals/core';

/** Parses a non-negative integer option (a revision or a position) as a bigint. */
export function bigintOption(name: string): (value: string) => bigint {
  return (value: string) => {
    if (!/^\d+$/.test(value))
      throw new InvalidArgument(`${name} expects a non-negative integer, found ${JSON.stringify(value)}.`);
    return BigInt(value);
  };
}

/** Parses a positive integer option (a count). */
export function countOption(name: string): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
      throw new InvalidArgument(`${name} expects a positive integer, found ${JSON.stringify(value)}.`);
    }
    return n;
  };
}
