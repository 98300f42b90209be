import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Environment } from './environment.js';
import type { TargetResult } from './targets.js';
import type { BackendName, Figure } from './types.js';

/** The JSON written after every run, for comparisons between commits. */
export interface BenchResults {
  readonly format: 'annals-bench/1';
  readonly startedAt: string;
  readonly durationSeconds: number;
  readonly mode: 'quick' | 'full';
  readonly rounds: number;
  readonly warmupRounds: number;
  readonly environment: Environment;
  /** Each backend: measured, or why not. */
  readonly backends: Readonly<Partial<Record<BackendName, string>>>;
  /** Index definitions of the events table and of the baseline table, to show they match. */
  readonly indexes: Readonly<Record<string, readonly string[]>>;
  /** The 1-minute load average when the run started and ended (above ~1 on an idle machine: noise). */
  readonly loadAverage: { readonly start: number; readonly end: number };
  readonly figures: readonly Figure[];
  readonly targets: readonly TargetResult[];
}

/** Writes `results` as `<dir>/<timestamp>.json` and returns the path. */
export function writeResults(dir: string, results: BenchResults): string {
  mkdirSync(dir, { recursive: true });
  const stamp = results.startedAt.replaceAll(':', '-').replace(/\.\d+Z$/, 'Z');
  const path = join(dir, `${stamp}.json`);
  writeFileSync(
    path,
    `${JSON.stringify(results, (_, v) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`,
  );
  return path;
}
