/**
 * Order statistics for the benchmark: medians of round throughputs and percentiles of latencies.
 * Percentiles use the nearest-rank method, so a reported p99 is always a value that was observed
 * (with fewer than 100 samples it is the maximum, which the report says by printing the count).
 */

/** The value at percentile `p` (0..100) of `values`, by nearest rank. NaN for an empty list. */
export function percentile(values: readonly number[], p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile expects p in 0..100, found ${p}`);
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

/**
 * The median: the middle value, or the mean of the two middle values for an even count. NaN for an
 * empty list.
 */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Median, p99, minimum and maximum of a sample, with its size. */
export interface Distribution {
  readonly median: number;
  readonly p99: number;
  readonly min: number;
  readonly max: number;
  readonly count: number;
}

/** Summarises a sample. */
export function distribution(values: readonly number[]): Distribution {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return {
    median: median(values),
    p99: percentile(values, 99),
    min: values.length === 0 ? Number.NaN : min,
    max: values.length === 0 ? Number.NaN : max,
    count: values.length,
  };
}
