import {
  type EventRegistryOptions,
  InMemoryEventStore,
  type NewEvent,
  type Projection,
  ProjectionFailed,
  ProjectionRunner,
} from '@annals/core';
import { expect } from 'vitest';
import { describeError } from '../aggregate-spec/spec-support.js';

/** An event of a projection's history: a {@link NewEvent}, in `streamId` (default `'stream-1'`). */
export type GivenEvent = NewEvent & { readonly streamId?: string };

/** Options of {@link ProjectionSpec.for}. */
export interface ProjectionSpecOptions<TContext> extends EventRegistryOptions {
  /**
   * Builds the context handlers receive, once per scenario: typically a plain object holding the
   * read model (`() => ({ balances: new Map() })`). Default: `() => ({})`.
   */
  readonly context?: () => TContext;
  /** What `then` compares: the read model within the context. Default: the context itself. */
  readonly state?: (context: TContext) => unknown;
  /**
   * Events per batch, overriding the projection's. A batch projection (`handleBatch`) gets the given
   * events in batches of this size; with `batchSize: 1` and the default side by side, a scenario
   * checks that the read model is the same however the events are cut into batches.
   */
  readonly batchSize?: number;
}

/**
 * Given/then for one projection, without a database: the `given` events are stored in a fresh
 * in-memory store (validated and upcast as in production), a real `ProjectionRunner` applies them
 * with the context you build, and `then` compares the resulting read model. A handler error makes
 * the scenario fail at once (no retries, no dead letters: the spec tests the handlers). A batch
 * projection (`handleBatch`) receives the given events in batches as the runner cuts them (see
 * `batchSize`); when its batch fails, the failure names the event, found by applying the batch one
 * event at a time as the runner does.
 *
 * @example
 * ```ts
 * await ProjectionSpec.for(Balances, { context: () => ({ balances: {} as Record<string, number> }), state: (c) => c.balances })
 *   .given([
 *     { streamId: 'account-1', ...AccountOpened.create({ accountId: '1' }) },
 *     { streamId: 'account-1', ...MoneyDeposited.create({ accountId: '1', amount: 100 }) },
 *   ])
 *   .then({ '1': 100 });
 * ```
 */
export class ProjectionSpec<TContext> {
  readonly #projection: Projection<TContext>;
  readonly #options: ProjectionSpecOptions<TContext>;

  private constructor(projection: Projection<TContext>, options: ProjectionSpecOptions<TContext>) {
    this.#projection = projection;
    this.#options = options;
  }

  /** Starts a specification of `projection` (made by `defineProjection`). */
  static for<TContext>(
    projection: Projection<TContext>,
    options: ProjectionSpecOptions<TContext> = {},
  ): ProjectionSpec<TContext> {
    if (typeof projection?.handle !== 'function') {
      throw new TypeError(
        `ProjectionSpec.for expects a projection made by defineProjection, found ${String(projection)}.`,
      );
    }
    const { batchSize } = options;
    if (batchSize !== undefined && (!Number.isSafeInteger(batchSize) || batchSize < 1)) {
      throw new TypeError(
        `ProjectionSpec.for expects batchSize to be a positive integer, found ${String(batchSize)}.`,
      );
    }
    return new ProjectionSpec(projection, options);
  }

  /** The history the projection is run over, in order (events may be at an older schema version). */
  given(events: readonly GivenEvent[]): ProjectionScenario<TContext> {
    if (!Array.isArray(events)) {
      throw new TypeError(`ProjectionSpec.given expects an array of events, found ${typeof events}.`);
    }
    return new ProjectionScenario(() => this.#run(events), this.#projection.name, this.#options.state);
  }

  async #run(events: readonly GivenEvent[]): Promise<ScenarioRun<TContext>> {
    const options = this.#options;
    const store = new InMemoryEventStore({
      ...(options.events === undefined ? {} : { events: options.events }),
      ...(options.upcasters === undefined ? {} : { upcasters: options.upcasters }),
      ...(options.strict === undefined ? {} : { strict: options.strict }),
    });
    for (const { streamId, ...event } of events) {
      await store.append(streamId ?? 'stream-1', [event], { import: true });
    }
    const context = options.context?.() ?? ({} as TContext);
    // Handler errors surface at once: no retries, no dead letters.
    const projection: Projection<TContext> = Object.freeze({
      ...this.#projection,
      failure: { ...this.#projection.failure, retries: 0, onExhausted: 'stop' as const },
      ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
    });
    const runner = new ProjectionRunner<TContext>({
      store,
      projections: [projection],
      context: () => context,
      logger: { warn: () => {}, error: () => {} },
    });
    try {
      await runner.start();
      await runner.waitUntilCaughtUp();
      return { context, error: undefined };
    } catch (error) {
      return { context, error };
    } finally {
      await runner.stop();
      await store.close();
    }
  }
}

interface ScenarioRun<TContext> {
  readonly context: TContext;
  readonly error: unknown;
}

/** The `then` half of a {@link ProjectionSpec}. Each assertion runs the scenario once: await it. */
export class ProjectionScenario<TContext> {
  readonly #run: () => Promise<ScenarioRun<TContext>>;
  readonly #name: string;
  readonly #state: (context: TContext) => unknown;

  /** @internal */
  constructor(
    run: () => Promise<ScenarioRun<TContext>>,
    name: string,
    state?: (context: TContext) => unknown,
  ) {
    this.#run = run;
    this.#name = name;
    this.#state = state ?? ((context) => context);
  }

  /** Asserts that the read model (see `options.state`) deeply equals `expected`. Returns the context. */
  // biome-ignore lint/suspicious/noThenProperty: given/then is the kit's API; awaiting a bare scenario is refused with an explanation.
  then(expected: unknown): Promise<TContext> {
    // Synchronous on purpose: `await scenario` calls then(resolve, reject) and must fail at once.
    if (typeof expected === 'function') {
      throw new TypeError(
        `ProjectionSpec(${this.#name}): then() expects the expected read model, found a function. Did you await the scenario without calling then(state), thenState(check) or thenFails()?`,
      );
    }
    return this.thenState((state) => expect(state).toEqual(expected));
  }

  /** Runs `check` on the read model (with your own assertions). Returns the context. */
  async thenState(check: (state: unknown, context: TContext) => void | Promise<void>): Promise<TContext> {
    const run = await this.#run();
    if (run.error !== undefined) {
      const cause = run.error instanceof ProjectionFailed ? (run.error.cause ?? run.error) : run.error;
      throw new Error(`ProjectionSpec(${this.#name}): ${describeError(run.error)}`, { cause });
    }
    await check(this.#state(run.context), run.context);
    return run.context;
  }

  /**
   * Asserts that a handler failed; with `matcher`, that its error's message matches it (a string is
   * looked for within the message). Returns the `ProjectionFailed`, whose `event` names the event.
   */
  async thenFails(matcher?: string | RegExp): Promise<ProjectionFailed> {
    const run = await this.#run();
    if (!(run.error instanceof ProjectionFailed)) {
      throw new Error(
        run.error === undefined
          ? `ProjectionSpec(${this.#name}): expected a handler to fail, but every event was applied.`
          : `ProjectionSpec(${this.#name}): expected a handler to fail, but the run failed otherwise: ${describeError(run.error)}`,
        { cause: run.error },
      );
    }
    if (matcher !== undefined) expect(describeError(run.error.cause)).toMatch(matcher);
    return run.error;
  }
}
