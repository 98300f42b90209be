import { assertPausedName, type PausedProjection, type ProjectionControl } from './projection-control.js';

/**
 * A {@link ProjectionControl} in process memory: the runner's default, and what several runners of
 * one process share (pass the same instance to each, as with `InMemoryLeaseStore`).
 */
export class InMemoryProjectionControl implements ProjectionControl {
  readonly #paused = new Map<string, Date>();

  async pause(name: string): Promise<void> {
    assertPausedName(name);
    if (!this.#paused.has(name)) this.#paused.set(name, new Date());
  }

  async resume(name: string): Promise<void> {
    assertPausedName(name);
    this.#paused.delete(name);
  }

  async isPaused(name: string): Promise<boolean> {
    assertPausedName(name);
    return this.#paused.has(name);
  }

  async listPaused(): Promise<readonly PausedProjection[]> {
    return [...this.#paused.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, pausedAt]) => Object.freeze({ name, pausedAt: new Date(pausedAt.getTime()) }));
  }
}
