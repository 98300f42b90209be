import {
  type AggregateClass,
  type AggregateRoot,
  type AnyCommandDefinition,
  CommandBus,
  type CommandInput,
  type CommandMiddleware,
  type CommandResult,
  type EventRegistryOptions,
  type ExecuteOptions,
  type HandlerRegistration,
  InMemoryEventStore,
  type NewEvent,
  type RecordedEvent,
  Repositories,
  type SnapshotOptions,
  type StreamIdStrategy,
} from '@annals/core';
import type { registerAnnals } from '@annals/core/tsyringe';
import { expect } from 'vitest';
import {
  describeError,
  type ErrorClass,
  type ExpectedEvent,
  normalizeExpected,
  refuseAwait,
} from '../aggregate-spec/spec-support.js';

/**
 * A tsyringe container (`DependencyContainer`), described by the one method a {@link CommandSpec}
 * calls, so that typing `@annals/testing` needs no tsyringe.
 */
export interface SpecContainer {
  /** A child container, where each scenario registers its own store, repositories and bus. */
  createChildContainer(): unknown;
}

/** What handler and middleware factories of a {@link CommandSpec} receive: this scenario's fresh store and repositories. */
export interface CommandSpecEnvironment {
  readonly store: InMemoryEventStore;
  readonly repositories: Repositories;
}

/** Options of {@link CommandSpec.for}. */
export interface CommandSpecOptions extends EventRegistryOptions {
  /**
   * The handlers: instances, `@CommandHandler` classes (with `container`), or a function that builds
   * them from the scenario's environment (`({ repositories }) => [new DepositHandler(repositories.get(BankAccount))]`).
   */
  readonly handlers:
    | readonly HandlerRegistration[]
    | ((environment: CommandSpecEnvironment) => readonly HandlerRegistration[]);
  /**
   * Resolve handler classes through a child of this container, wired by `registerAnnals` from
   * `@annals/core/tsyringe`, which is loaded only then: only a spec with a container needs
   * `tsyringe` and `reflect-metadata` installed.
   */
  readonly container?: SpecContainer;
  /** Bus middleware, outermost first, or a function that builds it. */
  readonly middleware?:
    | readonly CommandMiddleware[]
    | ((environment: CommandSpecEnvironment) => readonly CommandMiddleware[]);
  readonly snapshots?: SnapshotOptions;
  readonly streamId?: StreamIdStrategy;
}

/** An expected event of a command scenario; `streamId`, when given, is compared too. */
export interface ExpectedCommandEvent extends ExpectedEvent {
  readonly streamId?: string;
}

/** What {@link CommandScenario.then} found. */
export interface CommandOutcome<R> {
  /** What the handler returned. */
  readonly result: R;
  /** The events the command appended, as stored (with metadata). */
  readonly events: readonly RecordedEvent[];
}

type GivenEntry =
  | { readonly streamId: string; readonly events: readonly NewEvent[] }
  | { readonly aggregate: AggregateClass; readonly id: string; readonly events: readonly NewEvent[] };

/**
 * Given/when/then for a command through a real `CommandBus` (validation, middleware, handler,
 * repositories) on a fresh in-memory store per scenario.
 *
 * @example
 * ```ts
 * const spec = CommandSpec.for({ events: bankAccountEvents, container, handlers: [DepositHandler] });
 * await spec
 *   .given(BankAccount, 'acc-1', [AccountOpened.create({ accountId: 'acc-1', owner: 'Ada', overdraftLimit: 0 })])
 *   .when(Deposit, { accountId: 'acc-1', amount: 100 })
 *   .then([{ streamId: 'BankAccount-acc-1', ...MoneyDeposited.create({ accountId: 'acc-1', amount: 100 }) }]);
 * ```
 */
export class CommandSpec {
  readonly #options: CommandSpecOptions;
  readonly #given: readonly GivenEntry[];

  private constructor(options: CommandSpecOptions, given: readonly GivenEntry[]) {
    this.#options = options;
    this.#given = given;
  }

  /** Starts a command specification. */
  static for(options: CommandSpecOptions): CommandSpec {
    return new CommandSpec(options, []);
  }

  /** Events already in the stream of aggregate `id` (the stream id is derived by its repository). */
  given(aggregate: AggregateClass<AggregateRoot>, id: string, events: readonly NewEvent[]): CommandSpec;
  /** Events already in `streamId`. */
  given(streamId: string, events: readonly NewEvent[]): CommandSpec;
  given(
    target: string | AggregateClass<AggregateRoot>,
    idOrEvents: string | readonly NewEvent[],
    maybeEvents?: readonly NewEvent[],
  ): CommandSpec {
    const entry: GivenEntry =
      typeof target === 'string'
        ? { streamId: target, events: idOrEvents as readonly NewEvent[] }
        : { aggregate: target, id: idOrEvents as string, events: maybeEvents ?? [] };
    return new CommandSpec(this.#options, [...this.#given, entry]);
  }

  /** The command under test. */
  when<C extends AnyCommandDefinition>(
    command: C,
    data: CommandInput<C>,
    options?: ExecuteOptions,
  ): CommandScenario<CommandResult<C>> {
    return new CommandScenario(() => this.#run(command, data, options), command.type);
  }

  async #run<C extends AnyCommandDefinition>(
    command: C,
    data: CommandInput<C>,
    executeOptions: ExecuteOptions | undefined,
  ): Promise<CommandRun<CommandResult<C>>> {
    const options = this.#options;
    const store = new InMemoryEventStore({
      ...(options.events === undefined ? {} : { events: options.events }),
      ...(options.upcasters === undefined ? {} : { upcasters: options.upcasters }),
      ...(options.strict === undefined ? {} : { strict: options.strict }),
    });
    const repositoryOptions = {
      store,
      ...(options.snapshots === undefined ? {} : { snapshots: options.snapshots }),
      ...(options.streamId === undefined ? {} : { streamId: options.streamId }),
    };
    let repositories: Repositories;
    let bus: CommandBus;
    if (options.container !== undefined) {
      const register = await loadRegisterAnnals();
      const child = options.container.createChildContainer() as Parameters<typeof registerAnnals>[0];
      const annals = register(child, repositoryOptions);
      repositories = annals.repositories;
      bus = annals.bus;
    } else {
      repositories = new Repositories(repositoryOptions);
      bus = new CommandBus();
    }
    const environment: CommandSpecEnvironment = { store, repositories };
    const handlers =
      typeof options.handlers === 'function' ? options.handlers(environment) : options.handlers;
    for (const handler of handlers) bus.register(handler);
    const middleware =
      typeof options.middleware === 'function' ? options.middleware(environment) : (options.middleware ?? []);
    for (const m of middleware) bus.use(m);

    let last = 0n;
    for (const entry of this.#given) {
      const streamId =
        'streamId' in entry ? entry.streamId : repositories.get(entry.aggregate).streamIdOf(entry.id);
      if (entry.events.length === 0) continue;
      const appended = await store.append(streamId, entry.events, { import: true });
      if (appended.lastPosition > last) last = appended.lastPosition;
    }
    const appended = async (): Promise<RecordedEvent[]> => {
      const events: RecordedEvent[] = [];
      for await (const event of store.readAll({ fromPosition: last + 1n })) events.push(event);
      return events;
    };
    try {
      const result = (await bus.execute(command, data, executeOptions)) as CommandResult<C>;
      return { store, threw: false, error: undefined, result, events: await appended() };
    } catch (error) {
      return { store, threw: true, error, result: undefined, events: await appended() };
    }
  }
}

/**
 * `registerAnnals`, imported on first use: `@annals/core/tsyringe` loads `tsyringe` and
 * `reflect-metadata`, which a spec without a container does not need.
 */
async function loadRegisterAnnals(): Promise<typeof registerAnnals> {
  try {
    return (await import('@annals/core/tsyringe')).registerAnnals;
  } catch (cause) {
    throw new Error(
      `CommandSpec: the container option resolves handlers with tsyringe, through @annals/core/tsyringe, which could not be loaded; install tsyringe and reflect-metadata, or pass handler instances without a container. ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
  }
}

interface CommandRun<R> {
  readonly store: InMemoryEventStore;
  readonly threw: boolean;
  readonly error: unknown;
  readonly result: R | undefined;
  readonly events: readonly RecordedEvent[];
}

/** The `then` half of a {@link CommandSpec}. Each assertion runs the scenario once: await it. */
export class CommandScenario<R> {
  readonly #run: () => Promise<CommandRun<R>>;
  readonly #type: string;

  /** @internal */
  constructor(run: () => Promise<CommandRun<R>>, type: string) {
    this.#run = run;
    this.#type = type;
  }

  /** Asserts that the command succeeded and appended exactly these events (in global order). */
  // biome-ignore lint/suspicious/noThenProperty: given/when/then is the kit's API; awaiting a bare scenario is refused with an explanation.
  then(expected: readonly ExpectedCommandEvent[]): Promise<CommandOutcome<R>> {
    // Synchronous on purpose: `await scenario` calls then(resolve, reject) and must fail at once.
    refuseAwait('CommandSpec', expected);
    return this.#then(expected);
  }

  async #then(expected: readonly ExpectedCommandEvent[]): Promise<CommandOutcome<R>> {
    const run = await this.#run();
    if (run.threw) {
      throw new Error(
        `CommandSpec(${this.#type}): expected the command to append ${expected.length} event(s), but it threw ${describeError(run.error)}.`,
        { cause: run.error },
      );
    }
    const normalized = normalizeExpected(run.store.registry, expected);
    const actual = run.events.map((e, i) => ({
      ...(expected[i]?.streamId === undefined ? {} : { streamId: e.streamId }),
      type: e.type,
      data: e.data,
    }));
    expect(actual).toEqual(
      normalized.map((e, i) => ({
        ...(expected[i]?.streamId === undefined ? {} : { streamId: expected[i]!.streamId }),
        ...e,
      })),
    );
    return { result: run.result as R, events: run.events };
  }

  /** Asserts that the command threw an instance of `errorClass` and appended nothing. Returns the error. */
  async thenThrows<E extends Error>(errorClass: ErrorClass<E>): Promise<E> {
    const run = await this.#run();
    if (!run.threw) {
      throw new Error(
        `CommandSpec(${this.#type}): expected the command to throw ${errorClass.name}, but it succeeded and appended ${run.events.length} event(s).`,
      );
    }
    if (!(run.error instanceof errorClass)) {
      throw new Error(
        `CommandSpec(${this.#type}): expected the command to throw ${errorClass.name}, but it threw ${describeError(run.error)}.`,
        { cause: run.error },
      );
    }
    if (run.events.length > 0) {
      throw new Error(
        `CommandSpec(${this.#type}): the command threw ${errorClass.name} but appended ${run.events.map((e) => e.type).join(', ')}.`,
      );
    }
    return run.error;
  }

  /** Asserts that the command succeeded and appended nothing. Returns its result. */
  async thenNothingHappened(): Promise<R> {
    const run = await this.#run();
    if (run.threw) {
      throw new Error(
        `CommandSpec(${this.#type}): expected nothing to happen, but the command threw ${describeError(run.error)}.`,
        { cause: run.error },
      );
    }
    if (run.events.length > 0) {
      throw new Error(
        `CommandSpec(${this.#type}): expected nothing to happen, but the command appended ${run.events.map((e) => e.type).join(', ')}.`,
      );
    }
    return run.result as R;
  }
}
