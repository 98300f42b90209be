import type { RebuildProgress } from './projection-status.js';

/** Counts a rebuild's progress across the shards of one projection. */
export interface RebuildTracker {
  applied(count: number): void;
}

/** Sums the progress of a rebuild's shards and reports it after every batch. */
export class RebuildProgressTracker implements RebuildTracker {
  done = 0;
  #total: number;

  constructor(
    readonly projection: string,
    total: number,
    readonly startedAt: number,
    readonly onProgress: ((progress: RebuildProgress) => void) | undefined,
  ) {
    this.#total = total;
  }

  applied(count: number): void {
    this.done += count;
    if (this.done > this.#total) this.#total = this.done;
    if (this.onProgress === undefined) return;
    const elapsedMs = Math.max(1, Date.now() - this.startedAt);
    const rate = (this.done * 1000) / elapsedMs;
    const left = this.#total - this.done;
    this.onProgress({
      projection: this.projection,
      done: this.done,
      total: this.#total,
      rate,
      etaMs: rate > 0 ? Math.round((left / rate) * 1000) : 0,
      elapsedMs,
    });
  }

  /** Events appended during the replay join the total. */
  grow(pending: number): void {
    this.#total = Math.max(this.#total, this.done + pending);
  }
}
