import { describe, expect, it } from 'vitest';
import { InvalidArgument } from '../errors/store-errors.js';
import { backoffDelay, resolveBackoff } from './backoff.js';

describe('backoffDelay', () => {
  it('grows by factor up to maxDelayMs, with the jitter share random below the ceiling', () => {
    const exact = { initialDelayMs: 10, maxDelayMs: 500, factor: 2, jitter: 0 };
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, exact))).toEqual([10, 20, 40, 80]);
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(n, { ...exact, factor: 3 }))).toEqual([
      10, 30, 90, 270, 500,
    ]);
    expect(backoffDelay(3, { ...exact, jitter: 0.5 }, () => 0)).toBe(40);
    expect(backoffDelay(3, { ...exact, jitter: 0.5 }, () => 1)).toBe(20);
    expect(backoffDelay(3, { ...exact, jitter: 1 }, () => 1)).toBe(0);
  });
});

describe('resolveBackoff', () => {
  const defaults = { initialDelayMs: 100, maxDelayMs: 5000, factor: 2, jitter: 0.5 };

  it('fills in the defaults field by field', () => {
    expect(resolveBackoff(undefined, defaults, 'backoff')).toEqual(defaults);
    expect(resolveBackoff({ initialDelayMs: 1, jitter: 0 }, defaults, 'backoff')).toEqual({
      ...defaults,
      initialDelayMs: 1,
      jitter: 0,
    });
  });

  it.each([
    [{ initialDelayMs: -1 }, 'failure.backoff.initialDelayMs must be a finite number >= 0, found -1.'],
    [{ maxDelayMs: Number.NaN }, 'failure.backoff.maxDelayMs must be a finite number >= 0, found NaN.'],
    [{ factor: 0.5 }, 'failure.backoff.factor must be >= 1, found 0.5.'],
    [{ jitter: 2 }, 'failure.backoff.jitter must be between 0 and 1, found 2.'],
    [{ jitter: true }, 'failure.backoff.jitter must be a finite number >= 0, found true.'],
    [
      { initialDelayMs: 10, maxDelayMs: 5 },
      'failure.backoff.maxDelayMs (5) must be at least initialDelayMs (10).',
    ],
  ])('refuses %o with InvalidArgument naming the field', (options, message) => {
    expect(() => resolveBackoff(options as never, defaults, 'failure.backoff')).toThrow(InvalidArgument);
    expect(() => resolveBackoff(options as never, defaults, 'failure.backoff')).toThrow(message);
  });
});
