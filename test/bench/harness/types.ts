import type { Distribution } from './stats.js';

/** Where a measurement runs: the in-memory store, embedded PGlite, or the PostgreSQL server. */
export type BackendName = 'memory' | 'pglite' | 'server';

/** Annals code under test, or the plain-SQL physical baseline it is compared with. */
export type FigureKind = 'annals' | 'baseline';

/** What one measured round did. */
export interface RoundSample {
  /** Units of work done (events, rows, commands, loads): the numerator of the throughput. */
  readonly units: number;
  /** Wall time of the round. */
  readonly elapsedMs: number;
  /** One latency per operation. When absent, the round's duration is its only latency sample. */
  readonly latenciesMs?: readonly number[];
  /** Totals the measurement counts, e.g. attempts and conflicts. Summed over measured rounds. */
  readonly counters?: Readonly<Record<string, number>>;
}

/** A figure this one is compared with: its id, on which backend. */
export interface FigureRef {
  readonly id: string;
  readonly backend: BackendName;
}

/** One thing to measure. Specs of a group run round-robin so that machine noise hits all of them. */
export interface MeasurementSpec {
  /** Stable id, e.g. `append.single.sequential`; a baseline and the figures using it share its id. */
  readonly id: string;
  readonly backend: BackendName;
  readonly kind: FigureKind;
  /** What a reader sees in the table. */
  readonly title: string;
  /** Unit of the throughput, e.g. `events/s`. */
  readonly unit: string;
  /** What one latency sample is, e.g. `append of 1 event`. */
  readonly operation: string;
  /** Baselines to compare with, the first being the one the table prints. */
  readonly compareWith?: readonly FigureRef[];
  /** A caveat printed with the figure (e.g. a part of the feature that has not landed). */
  readonly note?: string;
  /** Runs once before the warm-up (seeding, connections). Not timed. */
  setup?(): Promise<void>;
  /** One round. `index` counts warm-up rounds first (negative), then 0, 1, ... */
  round(index: number): Promise<RoundSample>;
  /** Runs once after the last round, also after a failure. */
  teardown?(): Promise<void>;
  /** Derives extra figures (e.g. a conflict rate) from the summed counters. */
  derive?(counters: Readonly<Record<string, number>>): Record<string, number>;
}

/** The state of a figure in the report. */
export type FigureStatus = 'ok' | 'failed' | 'not-available' | 'skipped';

/** The comparison of a figure with one baseline figure of the same run. */
export interface Ratio {
  readonly baseline: FigureRef;
  /** This figure's median throughput divided by the baseline's; undefined when either is missing. */
  readonly ratio: number | undefined;
}

/** One line of the report and of the JSON results. */
export interface Figure {
  readonly id: string;
  readonly backend: BackendName;
  readonly kind: FigureKind;
  readonly title: string;
  readonly unit: string;
  readonly operation: string;
  readonly status: FigureStatus;
  /** Why a figure is not `ok`. */
  readonly reason?: string;
  /** A caveat that goes with the figure. */
  readonly note?: string;
  /** Units per second of each measured round. */
  readonly throughput?: Distribution;
  /** Per-operation latencies, pooled over the measured rounds. */
  readonly latencyMs?: Distribution;
  readonly counters?: Readonly<Record<string, number>>;
  readonly derived?: Readonly<Record<string, number>>;
  readonly rounds?: readonly { readonly units: number; readonly elapsedMs: number }[];
  readonly ratios?: readonly Ratio[];
}
