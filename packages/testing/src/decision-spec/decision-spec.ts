import {
  type AppendOptions,
  type AppendResult,
  type EventRegistryOptions,
  InMemoryEventStore,
  isAppendConditionFailed,
  type NewEvent,
  type RecordedEvent,
} from '@annals/core';
import { expect } from 'vitest';
import {
  describeError,
  type ErrorClass,
  type ExpectedEvent,
  normalizeExpected,
  refuseAwait,
} from '../aggregate-spec/spec-support.js';

/** A `given` event: appended to `streamId` (default `'given'`), with its tags. */
export type DecisionGivenEvent = NewEvent | { readonly streamId: string; readonly event: NewEvent };

/** What {@link DecisionScenario.then} found. */
export interface DecisionOutcome {
  /** The events `when` appended, as read back (with positions and tags). */
  readonly events: readonly RecordedEvent[];
  /** The value `when` returned. */
  readonly result: unknown;
}

/**
 * Given/when/then for a decision written with `buildDecisionModel`: the `given` events go into a
 * fresh in-memory store (validated, tagged and upcast as in production), `when` runs the decision
 * against that store, and `then` compares what it appended. `thenConflictsWith(events)` appends
 * `events` between the decision's read and its append and asserts that its append condition fails:
 * proof that the condition covers them.
 *
 * @example
 * ```ts
 * await DecisionSpec.for({ events: [CourseDefined, StudentSubscribed] })
 *   .given([CourseDefined.create({ courseId: 'c1', capacity: 1 })])
 *   .when((store) => subscribe(store, 'c1', 's1'))
 *   .then([StudentSubscribed.create({ courseId: 'c1', studentId: 's1' })]);
 * ```
 */
export class DecisionSpec {
  readonly #options: EventRegistryOptions;
  readonly #given: readonly DecisionGivenEvent[];

  private constructor(options: EventRegistryOptions, given: readonly DecisionGivenEvent[]) {
    this.#options = options;
    this.#given = given;
  }

  /** Starts a specification; `options` are the store's (event definitions, upcasters, strict). */
  static for(options: EventRegistryOptions = {}): DecisionSpec {
    return new DecisionSpec(options, []);
  }

  /** Events already in the log, in order. */
  given(events: readonly DecisionGivenEvent[]): DecisionSpec {
    return new DecisionSpec(this.#options, [...this.#given, ...events]);
  }

  /** The decision under test: reads and appends through `store` (it may return a value). */
  when(decide: (store: InMemoryEventStore) => unknown): DecisionScenario {
    return new DecisionScenario((concurrent) => this.#run(decide, concurrent));
  }

  async #run(
    decide: (store: InMemoryEventStore) => unknown,
    concurrent: readonly DecisionGivenEvent[],
  ): Promise<Run> {
    const store = new InterleavingStore(this.#options, concurrent);
    for (const given of this.#given) {
      const { streamId, event } = 'event' in given ? given : { streamId: 'given', event: given };
      await store.append(streamId, [event], { import: true });
    }
    const before = await lastPosition(store);
    try {
      const result = await decide(store);
      return { store, before, threw: false, error: undefined, result };
    } catch (error) {
      return { store, before, threw: true, error, result: undefined };
    }
  }
}

interface Run {
  readonly store: InterleavingStore;
  readonly before: bigint;
  readonly threw: boolean;
  readonly error: unknown;
  readonly result: unknown;
}

/** The `then` half of a {@link DecisionSpec}. Each assertion runs the scenario once: await it. */
export class DecisionScenario {
  readonly #run: (concurrent: readonly DecisionGivenEvent[]) => Promise<Run>;

  /** @internal */
  constructor(run: (concurrent: readonly DecisionGivenEvent[]) => Promise<Run>) {
    this.#run = run;
  }

  /** Asserts that `when` appended exactly these events (type and data, in log order). */
  // biome-ignore lint/suspicious/noThenProperty: given/when/then is the kit's API; awaiting a bare scenario is refused with an explanation.
  then(expected: readonly ExpectedEvent[]): Promise<DecisionOutcome> {
    refuseAwait('DecisionSpec', expected);
    return this.#then(expected);
  }

  async #then(expected: readonly ExpectedEvent[]): Promise<DecisionOutcome> {
    const run = await this.#run([]);
    if (run.threw) {
      throw new Error(
        `DecisionSpec: expected when() to append ${expected.length} event(s), but it threw ${describeError(run.error)}.`,
        { cause: run.error },
      );
    }
    const events = await appendedSince(run);
    expect(events.map((e) => ({ type: e.type, data: e.data }))).toEqual(
      normalizeExpected(run.store.registry, expected),
    );
    return { events, result: run.result };
  }

  /** Asserts that `when` threw an instance of `errorClass` and appended nothing. Returns the error. */
  async thenThrows<E extends Error>(errorClass: ErrorClass<E>): Promise<E> {
    const run = await this.#run([]);
    const appended = await appendedSince(run);
    if (!run.threw || !(run.error instanceof errorClass)) {
      throw new Error(
        `DecisionSpec: expected when() to throw ${errorClass.name}, but it ${
          run.threw ? `threw ${describeError(run.error)}` : `appended ${appended.length} event(s)`
        }.`,
        ...(run.threw ? [{ cause: run.error }] : []),
      );
    }
    if (appended.length > 0) {
      throw new Error(
        `DecisionSpec: when() threw ${errorClass.name} after appending ${appended.length} event(s).`,
      );
    }
    return run.error;
  }

  /** Asserts that `when` neither threw nor appended anything. Returns its result. */
  async thenNothingHappened(): Promise<unknown> {
    const run = await this.#run([]);
    if (run.threw) {
      throw new Error(
        `DecisionSpec: expected nothing to happen, but when() threw ${describeError(run.error)}.`,
        {
          cause: run.error,
        },
      );
    }
    const appended = await appendedSince(run);
    if (appended.length > 0) {
      throw new Error(
        `DecisionSpec: expected nothing to happen, but when() appended ${appended.length} event(s).`,
      );
    }
    return run.result;
  }

  /**
   * Appends `events` after the decision read and before its first conditional append, and asserts
   * that the append failed with `AppendConditionFailed` and nothing of the decision was written.
   */
  async thenConflictsWith(events: readonly DecisionGivenEvent[]): Promise<void> {
    const run = await this.#run(events);
    if (!run.store.interleaved) {
      throw new Error('DecisionSpec: when() made no append with a condition, so nothing could conflict.');
    }
    if (!run.threw || !isAppendConditionFailed(run.error)) {
      throw new Error(
        `DecisionSpec: expected the append condition to fail once the events came in between, but when() ${
          run.threw ? `threw ${describeError(run.error)}` : 'succeeded'
        }: its condition does not cover them.`,
      );
    }
    expect(await appendedSince(run)).toHaveLength(events.length);
  }
}

/** An in-memory store that appends `concurrent` just before the first append carrying a condition. */
class InterleavingStore extends InMemoryEventStore {
  readonly #concurrent: readonly DecisionGivenEvent[];
  interleaved = false;

  constructor(options: EventRegistryOptions, concurrent: readonly DecisionGivenEvent[]) {
    super(options);
    this.#concurrent = concurrent;
  }

  override async append(
    streamId: string,
    events: readonly NewEvent[],
    options: AppendOptions = {},
  ): Promise<AppendResult> {
    if (options.condition !== undefined && !this.interleaved && this.#concurrent.length > 0) {
      this.interleaved = true;
      for (const given of this.#concurrent) {
        const write = 'event' in given ? given : { streamId: 'concurrent', event: given };
        await super.append(write.streamId, [write.event]);
      }
    } else if (options.condition !== undefined) {
      this.interleaved = true;
    }
    return super.append(streamId, events, options);
  }
}

async function lastPosition(store: InMemoryEventStore): Promise<bigint> {
  let last = 0n;
  for await (const event of store.readAll()) last = event.position;
  return last;
}

async function appendedSince(run: Run): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  for await (const event of run.store.readAll({ fromPosition: run.before + 1n })) events.push(event);
  return events;
}
