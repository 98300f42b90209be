import type { RebuildProgress } from '@annals/core';
import { SingleBar } from 'cli-progress';
import { formatDuration } from './output.js';

/** Shows rebuild progress: a bar with rate and ETA on stderr, only when stderr is a terminal. */
export class RebuildProgressBar {
  readonly #bar: SingleBar | undefined;
  #started = false;

  constructor(stream: NodeJS.WriteStream = process.stderr) {
    this.#bar = stream.isTTY
      ? new SingleBar({
          stream,
          format: '{projection} [{bar}] {percentage}% | {value}/{total} events | {rate} ev/s | ETA {etaText}',
          hideCursor: true,
          clearOnComplete: false,
          etaBuffer: 1,
        })
      : undefined;
  }

  /** Called after every batch with the runner's progress. */
  update(progress: RebuildProgress): void {
    if (this.#bar === undefined) return;
    const payload = {
      projection: progress.projection,
      rate: Math.round(progress.rate),
      etaText: formatDuration(progress.etaMs),
    };
    if (!this.#started) {
      this.#started = true;
      this.#bar.start(progress.total, progress.done, payload);
      return;
    }
    this.#bar.setTotal(progress.total);
    this.#bar.update(progress.done, payload);
  }

  /** Ends the bar (leaves its last state on screen). */
  stop(): void {
    if (this.#started) this.#bar?.stop();
  }
}
