import {
  type AggregateClass,
  type AggregateRoot,
  aggregateDefinition,
  type EventRegistryOptions,
  InMemoryEventStore,
  type NewEvent,
  Repository,
  type StreamIdStrategy,
} from '@annals/core';
import { expect } from 'vitest';
import {
  describeError,
  type ErrorClass,
  type ExpectedEvent,
  normalizeExpected,
  refuseAwait,
} from './spec-support.js';

/** Options of {@link AggregateSpec.for}. */
export interface AggregateSpecOptions extends EventRegistryOptions {
  /** The aggregate's id. Default `'aggregate-1'`. */
  readonly id?: string;
  /** The stream id strategy, when the application uses another than the default. */
  readonly streamId?: StreamIdStrategy;
}

/** What {@link AggregateScenario.then} found. */
export interface AggregateOutcome<T extends AggregateRoot> {
  /** The aggregate after `when`. */
  readonly aggregate: T;
  /** The events `when` raised. */
  readonly events: readonly NewEvent[];
}

/**
 * Given/when/then for one aggregate, without a database: the `given` events are stored in a fresh
 * in-memory store (validated and upcast like in production), the aggregate is loaded through a
 * real `Repository`, `when` runs a method on it, and `then` compares the events it raised.
 *
 * @example
 * ```ts
 * await AggregateSpec.for(BankAccount, { id: 'acc-1' })
 *   .given([AccountOpened.create({ accountId: 'acc-1', owner: 'Ada', overdraftLimit: 0 })])
 *   .when((account) => account.deposit(100))
 *   .then([MoneyDeposited.create({ accountId: 'acc-1', amount: 100 })]);
 * ```
 */
export class AggregateSpec<T extends AggregateRoot> {
  readonly #aggregate: AggregateClass<T>;
  readonly #options: AggregateSpecOptions;
  readonly #given: readonly NewEvent[];

  private constructor(
    aggregate: AggregateClass<T>,
    options: AggregateSpecOptions,
    given: readonly NewEvent[],
  ) {
    this.#aggregate = aggregate;
    this.#options = options;
    this.#given = given;
  }

  /** Starts a specification of `aggregate`. Given events are validated with the aggregate's event definitions unless `options.events` is set. */
  static for<T extends AggregateRoot>(
    aggregate: AggregateClass<T>,
    options: AggregateSpecOptions = {},
  ): AggregateSpec<T> {
    aggregateDefinition(aggregate);
    return new AggregateSpec(aggregate, options, []);
  }

  /** The aggregate's history (events may be at an older schema version: they are upcast on load). */
  given(events: readonly NewEvent[]): AggregateSpec<T> {
    return new AggregateSpec(this.#aggregate, this.#options, [...this.#given, ...events]);
  }

  /** The action under test: call one method of the aggregate (it may be async). */
  when(action: (aggregate: T) => unknown): AggregateScenario<T> {
    return new AggregateScenario(() => this.#run(action), aggregateDefinition(this.#aggregate).type);
  }

  async #run(action: (aggregate: T) => unknown): Promise<ScenarioRun<T>> {
    const options = this.#options;
    const id = options.id ?? 'aggregate-1';
    const store = new InMemoryEventStore({
      events: options.events ?? aggregateDefinition(this.#aggregate).events,
      ...(options.upcasters === undefined ? {} : { upcasters: options.upcasters }),
      ...(options.strict === undefined ? {} : { strict: options.strict }),
    });
    const repository = new Repository(this.#aggregate, {
      store,
      ...(options.streamId === undefined ? {} : { streamId: options.streamId }),
    });
    let aggregate: T;
    if (this.#given.length > 0) {
      await store.append(repository.streamIdOf(id), this.#given, { import: true });
      aggregate = await repository.load(id);
    } else {
      aggregate = new this.#aggregate(id);
    }
    try {
      await action(aggregate);
    } catch (error) {
      return { aggregate, store, threw: true, error };
    }
    return { aggregate, store, threw: false, error: undefined };
  }
}

interface ScenarioRun<T> {
  readonly aggregate: T;
  readonly store: InMemoryEventStore;
  readonly threw: boolean;
  readonly error: unknown;
}

/** The `then` half of an {@link AggregateSpec}. Each assertion runs the scenario once and returns a promise: await it. */
export class AggregateScenario<T extends AggregateRoot> {
  readonly #run: () => Promise<ScenarioRun<T>>;
  readonly #type: string;

  /** @internal */
  constructor(run: () => Promise<ScenarioRun<T>>, type: string) {
    this.#run = run;
    this.#type = type;
  }

  /** Asserts that `when` raised exactly these events (type and data, in order). */
  // biome-ignore lint/suspicious/noThenProperty: given/when/then is the kit's API; awaiting a bare scenario is refused with an explanation.
  then(expected: readonly ExpectedEvent[]): Promise<AggregateOutcome<T>> {
    // Synchronous on purpose: `await scenario` calls then(resolve, reject) and must fail at once.
    refuseAwait('AggregateSpec', expected);
    return this.#then(expected);
  }

  async #then(expected: readonly ExpectedEvent[]): Promise<AggregateOutcome<T>> {
    const run = await this.#run();
    if (run.threw) {
      throw new Error(
        `AggregateSpec(${this.#type}): expected when() to raise ${expected.length} event(s), but it threw ${describeError(run.error)}.`,
        { cause: run.error },
      );
    }
    const events = run.aggregate.uncommittedEvents;
    expect(events.map((e) => ({ type: e.type, data: e.data }))).toEqual(
      normalizeExpected(run.store.registry, expected),
    );
    return { aggregate: run.aggregate, events };
  }

  /** Asserts that `when` threw an instance of `errorClass` and raised nothing. Returns the error for further checks. */
  async thenThrows<E extends Error>(errorClass: ErrorClass<E>): Promise<E> {
    const run = await this.#run();
    if (!run.threw) {
      throw new Error(
        `AggregateSpec(${this.#type}): expected when() to throw ${errorClass.name}, but it raised ${describeEvents(run.aggregate.uncommittedEvents)}.`,
      );
    }
    if (!(run.error instanceof errorClass)) {
      throw new Error(
        `AggregateSpec(${this.#type}): expected when() to throw ${errorClass.name}, but it threw ${describeError(run.error)}.`,
        { cause: run.error },
      );
    }
    const raised = run.aggregate.uncommittedEvents;
    if (raised.length > 0) {
      throw new Error(
        `AggregateSpec(${this.#type}): when() threw ${errorClass.name} after raising ${describeEvents(raised)}; decide first, then raise.`,
      );
    }
    return run.error;
  }

  /** Asserts that `when` neither threw nor raised an event. Returns the aggregate. */
  async thenNothingHappened(): Promise<T> {
    const run = await this.#run();
    if (run.threw) {
      throw new Error(
        `AggregateSpec(${this.#type}): expected nothing to happen, but when() threw ${describeError(run.error)}.`,
        { cause: run.error },
      );
    }
    const raised = run.aggregate.uncommittedEvents;
    if (raised.length > 0) {
      throw new Error(
        `AggregateSpec(${this.#type}): expected nothing to happen, but when() raised ${describeEvents(raised)}.`,
      );
    }
    return run.aggregate;
  }
}

function describeEvents(events: readonly { readonly type: string }[]): string {
  return events.length === 0 ? 'no events' : events.map((e) => e.type).join(', ');
}
