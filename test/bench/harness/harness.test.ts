import { describe, expect, it } from 'vitest';
import { attachRatios } from './ratios.js';
import { distribution, median, percentile } from './stats.js';
import { judgeTargets } from './targets.js';
import { timeOperations } from './timing.js';
import type { Figure } from './types.js';

describe('benchmark statistics', () => {
  it('takes percentiles by nearest rank, so p99 is an observed value', () => {
    const values = Array.from({ length: 200 }, (_, i) => 200 - i); // 200..1, unsorted
    expect(percentile(values, 50)).toBe(100);
    expect(percentile(values, 99)).toBe(198);
    expect(percentile(values, 100)).toBe(200);
    expect(percentile([7, 3, 5], 99)).toBe(7); // fewer than 100 samples: the maximum
    expect(percentile([4], 0)).toBe(4);
    expect(() => percentile([1], 101)).toThrow(RangeError);
  });

  it('averages the two middle values of an even sample for the median', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([9, 1, 5])).toBe(5);
    expect(Number.isNaN(median([]))).toBe(true);
  });

  it('summarises a sample with its size and extremes', () => {
    expect(distribution([3, 1, 2])).toEqual({ median: 2, p99: 3, min: 1, max: 3, count: 3 });
  });
});

describe('timed operations', () => {
  it('runs every operation once across the workers and times each', async () => {
    const seen: number[] = [];
    const sample = await timeOperations({ operations: 10, workers: 3, unitsPerOperation: 5 }, async (i) => {
      seen.push(i);
    });
    expect(seen.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(sample.units).toBe(50);
    expect(sample.latenciesMs).toHaveLength(10);
    expect(sample.latenciesMs!.every((l) => l >= 0)).toBe(true);
  });
});

function figure(id: string, backend: Figure['backend'], median: number | undefined): Figure {
  return {
    id,
    backend,
    kind: id.startsWith('baseline.') ? 'baseline' : 'annals',
    title: id,
    unit: 'events/s',
    operation: 'op',
    ...(median === undefined
      ? { status: 'failed', reason: 'boom' }
      : { status: 'ok', throughput: { median, p99: median, min: median, max: median, count: 1 } }),
  } as Figure;
}

describe('ratios and targets', () => {
  it('divides median throughputs of the same run, and leaves no ratio when the baseline failed', () => {
    const figures = [
      figure('baseline.insert.sequential', 'server', 1000),
      figure('append.single.sequential', 'server', 800),
      figure('baseline.insert.concurrent', 'server', undefined),
      figure('append.single.concurrent', 'server', 500),
    ];
    const comparisons = new Map([
      ['server:append.single.sequential', [{ id: 'baseline.insert.sequential', backend: 'server' as const }]],
      ['server:append.single.concurrent', [{ id: 'baseline.insert.concurrent', backend: 'server' as const }]],
    ]);
    const result = attachRatios(figures, comparisons);
    expect(result[1]!.ratios).toEqual([
      { baseline: { id: 'baseline.insert.sequential', backend: 'server' }, ratio: 0.8 },
    ]);
    expect(result[3]!.ratios?.[0]?.ratio).toBeUndefined();
  });

  it('judges a full run against the issue targets, and does not judge a quick one', () => {
    const figures = [
      figure('baseline.insert.sequential', 'server', 1000),
      figure('append.single.sequential', 'server', 650),
      figure('read.stream', 'server', 200_000),
    ];
    const full = judgeTargets(figures, false);
    expect(full.find((t) => t.figure.id === 'append.single.sequential')).toMatchObject({
      measured: 0.65,
      verdict: 'missed',
    });
    expect(full.find((t) => t.figure.id === 'read.stream')?.verdict).toBe('met');
    expect(full.find((t) => t.figure.id === 'read.all')?.verdict).toBe('not measured');
    expect(judgeTargets(figures, true).find((t) => t.figure.id === 'read.stream')?.verdict).toBe(
      'not judged (--quick)',
    );
  });
});
