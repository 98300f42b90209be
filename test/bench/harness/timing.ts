import type { RoundSample } from './types.js';

/** How a round of operations is counted. */
export interface TimedLoop {
  /** Operations in the round. */
  readonly operations: number;
  /** Units of work each operation does (e.g. 100 for a 100-event batch). Default 1. */
  readonly unitsPerOperation?: number;
  /** Concurrent loops sharing the operations. Default 1 (sequential). */
  readonly workers?: number;
}

/**
 * Runs `operations` calls of `op` (operation index, worker index), spread over `workers` loops that
 * each take the next index when their previous call settles, and times every call.
 */
export async function timeOperations(
  loop: TimedLoop,
  op: (index: number, worker: number) => Promise<unknown>,
): Promise<RoundSample> {
  const latencies = new Array<number>(loop.operations);
  const workers = Math.max(1, Math.min(loop.workers ?? 1, loop.operations));
  let next = 0;
  const run = async (worker: number) => {
    for (let i = next++; i < loop.operations; i = next++) {
      const t0 = performance.now();
      await op(i, worker);
      latencies[i] = performance.now() - t0;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: workers }, (_, w) => run(w)));
  const elapsedMs = performance.now() - started;
  return { units: loop.operations * (loop.unitsPerOperation ?? 1), elapsedMs, latenciesMs: latencies };
}

/** Times one piece of work that does `units` units (a catch-up read, one big INSERT). */
export async function timeOnce(work: () => Promise<number>): Promise<RoundSample> {
  const started = performance.now();
  const units = await work();
  return { units, elapsedMs: performance.now() - started };
}
