import { InvalidArgument, type Projection, type ProjectionRunner, type RebuildProgress } from '@annals/core';
import {
  type PostgresEventStore,
  type PostgresProjectionContext,
  PostgresProjectionRunner,
} from '@annals/postgres';

/** A rebuild started from the console, as its projections page shows it. */
export interface RebuildJob {
  readonly projection: string;
  readonly state: 'running' | 'done' | 'failed' | 'stopped';
  /** Who started it (the token label). */
  readonly startedBy: string;
  readonly startedAt: string;
  /** The runner's latest progress report (events done of total, rate, ETA). */
  readonly progress: RebuildProgress | undefined;
  readonly finishedAt: string | undefined;
  /** Why it failed. */
  readonly error: string | undefined;
}

interface Running {
  job: RebuildJob;
  readonly abort: AbortController;
  readonly done: Promise<void>;
}

/**
 * The rebuilds this console started, reporting the runner's rebuild progress: on the application's
 * runner of that projection when it was given one (the projection then goes on live there), else on
 * a runner of its own that stops when the rebuild ends. The latest one of each projection is kept
 * for display.
 */
export class RebuildJobs {
  readonly #store: PostgresEventStore;
  readonly #runners: readonly ProjectionRunner<any, any>[];
  readonly #jobs = new Map<string, Running>();

  constructor(store: PostgresEventStore, runners: readonly ProjectionRunner<any, any>[]) {
    this.#store = store;
    this.#runners = runners;
  }

  /** The latest rebuild of each projection, by name. */
  list(): RebuildJob[] {
    return [...this.#jobs.values()]
      .map((r) => r.job)
      .sort((a, b) => a.projection.localeCompare(b.projection));
  }

  /**
   * Starts rebuilding `projection`; resolves once it is under way (reset done, replay started) or
   * rejects when the runner refuses it (no reset hook, another runner holds its lease).
   * `onEnd` is called when it ends.
   */
  async start(
    projection: Projection<PostgresProjectionContext>,
    startedBy: string,
    onEnd: (error?: unknown) => void,
  ): Promise<RebuildJob> {
    const name = projection.name;
    if (this.#jobs.get(name)?.job.state === 'running') {
      throw new InvalidArgument(`Projection ${name} is already being rebuilt from this console.`);
    }
    const shared = this.#runners.find((r) => r.status().some((s) => s.name === name));
    const runner = shared ?? new PostgresProjectionRunner({ store: this.#store, projections: [projection] });
    const abort = new AbortController();
    let job: RebuildJob = {
      projection: name,
      state: 'running',
      startedBy,
      startedAt: new Date().toISOString(),
      progress: undefined,
      finishedAt: undefined,
      error: undefined,
    };
    let started!: () => void;
    let refused!: (error: unknown) => void;
    const underWay = new Promise<void>((resolve, reject) => {
      started = resolve;
      refused = reject;
    });
    const update = (change: Partial<RebuildJob>) => {
      job = { ...job, ...change };
      const running = this.#jobs.get(name);
      if (running !== undefined) running.job = job;
    };
    const done = runner
      .rebuild(name, {
        signal: abort.signal,
        onProgress: (progress) => {
          update({ progress });
          started();
        },
      })
      .then(
        () => {
          update({ state: 'done', finishedAt: new Date().toISOString() });
          started();
          onEnd();
        },
        (error: unknown) => {
          const stopped = abort.signal.aborted;
          update({
            state: stopped ? 'stopped' : 'failed',
            finishedAt: new Date().toISOString(),
            error: error instanceof Error ? error.message : String(error),
          });
          refused(error);
          onEnd(stopped ? undefined : error);
        },
      )
      .finally(() => (shared === undefined ? runner.stop() : undefined));
    this.#jobs.set(name, { job, abort, done });
    await underWay;
    return this.#jobs.get(name)!.job;
  }

  /** Stops the rebuilds still running (each stops where it is; a runner continues it later). */
  async close(): Promise<void> {
    const running = [...this.#jobs.values()].filter((r) => r.job.state === 'running');
    for (const r of running) r.abort.abort();
    await Promise.all(running.map((r) => r.done.catch(() => {})));
  }
}
