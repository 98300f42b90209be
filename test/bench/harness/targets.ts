import { findFigure } from './ratios.js';
import type { Figure, FigureRef } from './types.js';

/** A target of issue 8: a minimum ratio to a baseline, or a minimum absolute throughput. */
export interface Target {
  readonly description: string;
  readonly figure: FigureRef;
  /** Compared with this baseline's median throughput; absent for an absolute target. */
  readonly baseline?: FigureRef;
  /** The minimum ratio (with a baseline) or units per second (without). */
  readonly minimum: number;
}

/** How a target fared in a run. */
export interface TargetResult extends Target {
  /** The measured ratio or throughput; undefined when it was not measured. */
  readonly measured: number | undefined;
  /** met / missed, or why it could not be judged. */
  readonly verdict: 'met' | 'missed' | 'not measured' | 'not judged (--quick)';
}

const server = (id: string): FigureRef => ({ id, backend: 'server' });

/** The targets of issue 8 (2-core machine, local PostgreSQL server, synchronous_commit on). */
export const TARGETS: readonly Target[] = [
  {
    description: 'sequential single-event appends >= 70% of the sequential single-INSERT baseline',
    figure: server('append.single.sequential'),
    baseline: server('baseline.insert.sequential'),
    minimum: 0.7,
  },
  {
    description: '16 concurrent single-event appends >= 70% of the 16-connection INSERT baseline',
    figure: server('append.single.concurrent'),
    baseline: server('baseline.insert.concurrent'),
    minimum: 0.7,
  },
  {
    description: '100-event batches >= 50% of the unnest baseline (rows/s)',
    figure: server('append.batch'),
    baseline: server('baseline.insert.unnest'),
    minimum: 0.5,
  },
  { description: 'readStream >= 150,000 events/s', figure: server('read.stream'), minimum: 150_000 },
  { description: 'readAll catch-up >= 100,000 events/s', figure: server('read.all'), minimum: 100_000 },
  {
    description: 'projection catch-up into Postgres >= 20,000 events/s',
    figure: server('projection.catch-up'),
    minimum: 20_000,
  },
  {
    description: 'projection catch-up into Postgres with a batch handler >= 20,000 events/s',
    figure: server('projection.catch-up.batch'),
    minimum: 20_000,
  },
  {
    description: 'in-memory command bus >= 100,000 commands/s',
    figure: { id: 'command.bus', backend: 'memory' },
    minimum: 100_000,
  },
];

/** Judges every target against the figures of a run. A quick run measures too little to judge. */
export function judgeTargets(figures: readonly Figure[], quick: boolean): TargetResult[] {
  return TARGETS.map((target) => {
    const figure = findFigure(figures, target.figure);
    const ours = figure?.status === 'ok' ? figure.throughput?.median : undefined;
    let measured: number | undefined = ours;
    if (target.baseline !== undefined) {
      const baseline = findFigure(figures, target.baseline);
      const theirs = baseline?.status === 'ok' ? baseline.throughput?.median : undefined;
      measured = ours !== undefined && theirs !== undefined && theirs > 0 ? ours / theirs : undefined;
    }
    if (measured === undefined) return { ...target, measured, verdict: 'not measured' };
    if (quick) return { ...target, measured, verdict: 'not judged (--quick)' };
    return { ...target, measured, verdict: measured >= target.minimum ? 'met' : 'missed' };
  });
}
