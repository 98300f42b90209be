import type { ProjectionState } from '../projection-status.js';

/**
 * Every transition a worker's state may take. `stopped` and `failed` are left only by `start()`;
 * while the loop runs, the worker moves between `standby` (no lease, or the shard is assigned
 * elsewhere), `paused` (the projection is paused: no lease held, nothing applied) and the states of
 * a worker that holds its key (`catching-up`, `running`, `rebuilding`);
 * the loop ends in `failed` (the failure policy gave up) or `stopped`.
 */
const TRANSITIONS: { readonly [From in ProjectionState]: readonly ProjectionState[] } = {
  stopped: ['standby', 'catching-up', 'rebuilding', 'paused'],
  failed: ['standby', 'catching-up', 'rebuilding', 'paused'],
  standby: ['catching-up', 'running', 'rebuilding', 'paused', 'stopped', 'failed'],
  'catching-up': ['standby', 'running', 'rebuilding', 'paused', 'stopped', 'failed'],
  running: ['standby', 'catching-up', 'rebuilding', 'paused', 'stopped', 'failed'],
  rebuilding: ['standby', 'catching-up', 'running', 'paused', 'stopped', 'failed'],
  paused: ['standby', 'catching-up', 'running', 'rebuilding', 'stopped', 'failed'],
};

/**
 * The state of one projection worker, moved only through {@link WorkerState.to}: a transition not in
 * the table is a bug of the worker, and throws.
 */
export class WorkerState {
  #current: ProjectionState = 'stopped';

  /** `onChange` is called after every transition (wakes waiters on the state). */
  constructor(private readonly onChange: () => void) {}

  get current(): ProjectionState {
    return this.#current;
  }

  /** True when the state is one of `states`. */
  is(...states: readonly ProjectionState[]): boolean {
    return states.includes(this.#current);
  }

  /** Moves to `next` (no-op when there already); throws on a transition the table does not allow. */
  to(next: ProjectionState): void {
    if (this.#current === next) return;
    if (!TRANSITIONS[this.#current].includes(next)) {
      throw new Error(`Illegal projection worker transition: ${this.#current} -> ${next}.`);
    }
    this.#current = next;
    this.onChange();
  }
}
