import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff.js';

describe('backoffDelay', () => {
  it('grows by factor (default 2) up to maxDelayMs, with the jitter share random below the ceiling', () => {
    const exact = { baseDelayMs: 10, maxDelayMs: 500, jitter: 0 };
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, exact))).toEqual([10, 20, 40, 80]);
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(n, { ...exact, factor: 3 }))).toEqual([
      10, 30, 90, 270, 500,
    ]);
    expect(backoffDelay(3, { ...exact, jitter: 0.5 }, () => 0)).toBe(40);
    expect(backoffDelay(3, { ...exact, jitter: 0.5 }, () => 1)).toBe(20);
    expect(backoffDelay(3, { ...exact, jitter: 1 }, () => 1)).toBe(0);
  });
});
