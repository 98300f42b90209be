import type { Logger } from '../../observability/logger.js';
import type { ProjectionControl } from '../projection-control.js';

/**
 * Whether one projection is paused, as a worker knows it: read from the {@link ProjectionControl}
 * before the worker claims its key, and every poll interval while it holds it; set at once by
 * `runner.pause()` and `runner.resume()` on this runner. A failed read keeps the last known answer
 * (an outage neither pauses nor resumes a projection).
 */
export class PauseWatch {
  readonly #control: ProjectionControl;
  readonly #name: string;
  readonly #intervalMs: number;
  readonly #logger: Logger;
  /** Called when a read while watching finds the projection paused. */
  readonly #onPaused: () => void;
  #paused = false;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    control: ProjectionControl,
    name: string,
    intervalMs: number,
    logger: Logger,
    onPaused: () => void,
  ) {
    this.#control = control;
    this.#name = name;
    this.#intervalMs = intervalMs;
    this.#logger = logger;
    this.#onPaused = onPaused;
  }

  /** The last known answer. */
  get paused(): boolean {
    return this.#paused;
  }

  /** Sets the answer without reading (this runner just paused or resumed the projection). */
  set(paused: boolean): void {
    const was = this.#paused;
    this.#paused = paused;
    if (paused && !was) this.#onPaused();
  }

  /** Reads the control now; resolves with the answer (the last known one when the read fails). */
  async check(): Promise<boolean> {
    try {
      this.set(await this.#control.isPaused(this.#name));
    } catch (error) {
      this.#logger.warn({ err: error }, `Projection ${this.#name}: reading whether it is paused failed.`);
    }
    return this.#paused;
  }

  /** Reads the control every interval until {@link unwatch}. */
  watch(): void {
    if (this.#timer !== undefined) return;
    let reading = false;
    this.#timer = setInterval(() => {
      if (reading) return;
      reading = true;
      void this.check().finally(() => {
        reading = false;
      });
    }, this.#intervalMs);
    this.#timer.unref?.();
  }

  unwatch(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
