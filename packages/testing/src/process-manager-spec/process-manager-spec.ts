import {
  type AnyCommandDefinition,
  type CommandSender,
  type EventRegistryOptions,
  InMemoryEventStore,
  InMemoryProcessStore,
  ManualClock,
  type ProcessManager,
  ProcessManagerRunner,
  ProcessTimerFired,
  ProjectionFailed,
} from '@annals/core';
import { expect } from 'vitest';
import { describeError } from '../aggregate-spec/spec-support.js';
import type { GivenEvent } from '../projection-spec/projection-spec.js';

/** A command as the spec saw it sent: its type and payload. */
export interface SentCommandRecord {
  readonly type: string;
  readonly data: unknown;
}

/** A timer as the spec reports it: instance key, name, due instant and message. */
export interface TimerRecord {
  readonly key: string;
  readonly name: string;
  readonly dueAt: Date;
  readonly message: unknown;
}

/** What `then` compares; each part left out is not checked. */
export interface ProcessExpectation {
  /** The commands sent during the `when` steps, in order. */
  readonly sent?: readonly SentCommandRecord[];
  /** Every timer a reaction scheduled during the `when` steps, in order (fired since or not). */
  readonly scheduled?: readonly TimerRecord[];
  /** Every pending timer a reaction cancelled (or a completion removed) during the `when` steps, in order. */
  readonly cancelled?: readonly { readonly key: string; readonly name: string }[];
  /** The instances that ended during the `when` steps. */
  readonly completed?: readonly string[];
}

/** Options of {@link ProcessManagerSpec.for}. */
export interface ProcessManagerSpecOptions extends EventRegistryOptions {
  /** Where the clock starts. Default: 2030-01-01T00:00:00.000Z. */
  readonly start?: Date;
  /**
   * Rejects a command as its handler would: return the error to throw (a domain error), or
   * undefined to let it succeed. Default: every command succeeds.
   */
  readonly reject?: (command: SentCommandRecord) => Error | undefined;
}

type Step =
  | { readonly kind: 'events'; readonly events: readonly GivenEvent[] }
  | { readonly kind: 'time'; readonly ms: number };

/** What a scenario's run observed. */
interface ScenarioRun {
  readonly error: unknown;
  readonly sent: readonly SentCommandRecord[];
  readonly invalid: readonly string[];
  readonly scheduled: readonly TimerRecord[];
  readonly cancelled: readonly { readonly key: string; readonly name: string }[];
  readonly completed: readonly string[];
  readonly states: ReadonlyMap<string, unknown>;
}

/** An in-memory process store that records the timers commits schedule and cancel. */
class RecordingProcessStore extends InMemoryProcessStore {
  readonly scheduled: TimerRecord[] = [];
  readonly cancelled: { key: string; name: string }[] = [];

  override async commit(...args: Parameters<InMemoryProcessStore['commit']>): Promise<boolean> {
    const [process, key, , changes] = args;
    // A fired timer is removed before its fire is applied: a name of `cancel` still pending is a cancel.
    const pending = new Set((await this.pending(process, key)).map((t) => t.name));
    const written = await super.commit(...args);
    if (written) {
      for (const name of changes.cancel) if (pending.has(name)) this.cancelled.push({ key, name });
      for (const t of changes.schedule) {
        this.scheduled.push({ key: t.key, name: t.name, dueAt: t.dueAt, message: t.message });
      }
    }
    return written;
  }

  forget(): void {
    this.scheduled.length = 0;
    this.cancelled.length = 0;
  }
}

/**
 * Given/when/then for one process manager, without a database and without waiting: the `given`
 * events are stored and applied; then each `when` step appends events or moves a manual clock
 * forward (`whenTimePasses`), firing the timers that fall due; `then` compares the commands sent,
 * the timers scheduled and cancelled, and the instances completed during the `when` steps. Commands
 * go to a recording bus: each succeeds unless `options.reject` returns an error for it.
 *
 * @example
 * ```ts
 * await ProcessManagerSpec.for(TransferProcess, { events: bankEvents })
 *   .given([{ streamId: 'Transfer-t-1', ...TransferStarted.create({ ... }) }])
 *   .whenTimePasses(60_000)
 *   .then({ sent: [{ type: 'AdvanceTransfer', data: { transferId: 't-1', step: 'expired' } }] });
 * ```
 */
export class ProcessManagerSpec {
  readonly #process: ProcessManager<any>;
  readonly #options: ProcessManagerSpecOptions;

  private constructor(process: ProcessManager<any>, options: ProcessManagerSpecOptions) {
    this.#process = process;
    this.#options = options;
  }

  /** Starts a specification of `process` (made by `defineProcessManager`). */
  static for(process: ProcessManager<any>, options: ProcessManagerSpecOptions = {}): ProcessManagerSpec {
    if (typeof process?.correlate !== 'function') {
      throw new TypeError(
        `ProcessManagerSpec.for expects a process manager made by defineProcessManager, found ${String(process)}.`,
      );
    }
    return new ProcessManagerSpec(process, options);
  }

  /** The history, applied before the `when` steps (what it sends is not compared). */
  given(events: readonly GivenEvent[]): ProcessScenario {
    if (!Array.isArray(events)) {
      throw new TypeError(`ProcessManagerSpec.given expects an array of events, found ${typeof events}.`);
    }
    return new ProcessScenario(this.#process, this.#options, events, []);
  }
}

/** A scenario of a {@link ProcessManagerSpec}: `when` steps, then assertions. Each assertion runs it once: await it. */
export class ProcessScenario {
  /** @internal */
  constructor(
    readonly process: ProcessManager<any>,
    readonly options: ProcessManagerSpecOptions,
    readonly history: readonly GivenEvent[],
    readonly steps: readonly Step[],
  ) {}

  /** New events, appended and applied in order. */
  when(events: readonly GivenEvent[]): ProcessScenario {
    if (!Array.isArray(events)) {
      throw new TypeError(`ProcessScenario.when expects an array of events, found ${typeof events}.`);
    }
    return new ProcessScenario(this.process, this.options, this.history, [
      ...this.steps,
      { kind: 'events', events },
    ]);
  }

  /** Moves the clock `ms` forward and fires (and applies) every timer due by then. */
  whenTimePasses(ms: number): ProcessScenario {
    if (!Number.isFinite(ms) || ms < 0) {
      throw new TypeError(`ProcessScenario.whenTimePasses expects milliseconds >= 0, found ${String(ms)}.`);
    }
    return new ProcessScenario(this.process, this.options, this.history, [
      ...this.steps,
      { kind: 'time', ms },
    ]);
  }

  /** Asserts each part of `expected` that is given (see {@link ProcessExpectation}). */
  // biome-ignore lint/suspicious/noThenProperty: given/when/then is the kit's API; awaiting a bare scenario is refused with an explanation.
  then(expected: ProcessExpectation): Promise<void> {
    // Synchronous on purpose: `await scenario` calls then(resolve, reject) and must fail at once.
    if (typeof expected !== 'object' || expected === null) {
      throw new TypeError(
        `ProcessManagerSpec(${this.process.name}): then() expects { sent, scheduled, cancelled, completed }, found ${typeof expected}. Did you await the scenario without calling then(...), thenState(...) or thenFails()?`,
      );
    }
    return this.#check(expected);
  }

  /** Runs `check` on the state of instance `key` after the steps. */
  async thenState(key: string, check: (state: unknown) => void | Promise<void>): Promise<void> {
    const run = await this.#passing();
    if (!run.states.has(key)) {
      throw new Error(
        `ProcessManagerSpec(${this.process.name}): no instance ${key}; instances: ${[...run.states.keys()].join(', ') || 'none'}.`,
      );
    }
    await check(run.states.get(key));
  }

  /** Asserts that applying an input failed (a compensation rejected, a reaction threw); returns the `ProjectionFailed`. */
  async thenFails(matcher?: string | RegExp): Promise<ProjectionFailed> {
    const run = await this.#run();
    if (!(run.error instanceof ProjectionFailed)) {
      throw new Error(
        run.error === undefined
          ? `ProcessManagerSpec(${this.process.name}): expected an input to fail, but every input was applied.`
          : `ProcessManagerSpec(${this.process.name}): expected an input to fail, but the run failed otherwise: ${describeError(run.error)}`,
        { cause: run.error },
      );
    }
    if (matcher !== undefined) expect(describeError(run.error.cause)).toMatch(matcher);
    return run.error;
  }

  async #check(expected: ProcessExpectation): Promise<void> {
    const run = await this.#passing();
    const about = `ProcessManagerSpec(${this.process.name})`;
    if (expected.sent !== undefined) expect(run.sent, `${about}: the commands sent`).toEqual(expected.sent);
    if (expected.scheduled !== undefined) {
      expect(run.scheduled, `${about}: the timers scheduled`).toEqual(expected.scheduled);
    }
    if (expected.cancelled !== undefined) {
      expect(run.cancelled, `${about}: the timers cancelled`).toEqual(expected.cancelled);
    }
    if (expected.completed !== undefined) {
      expect(run.completed, `${about}: the instances completed`).toEqual(expected.completed);
    }
  }

  async #passing(): Promise<ScenarioRun> {
    const run = await this.#run();
    const about = `ProcessManagerSpec(${this.process.name})`;
    if (run.error !== undefined) {
      const cause = run.error instanceof ProjectionFailed ? (run.error.cause ?? run.error) : run.error;
      throw new Error(`${about}: ${describeError(cause)}`, { cause });
    }
    if (run.invalid.length > 0)
      throw new Error(`${about}: invalid commands were sent: ${run.invalid.join('; ')}`);
    return run;
  }

  async #run(): Promise<ScenarioRun> {
    const { options, process } = this;
    const store = new InMemoryEventStore({
      ...(options.events === undefined ? {} : { events: [...options.events, ProcessTimerFired] }),
      ...(options.upcasters === undefined ? {} : { upcasters: options.upcasters }),
      ...(options.strict === undefined ? {} : { strict: options.strict }),
    });
    const clock = new ManualClock(options.start ?? new Date('2030-01-01T00:00:00.000Z'));
    const processes = new RecordingProcessStore();
    const sent: SentCommandRecord[] = [];
    const invalid: string[] = [];
    const bus: CommandSender = {
      execute(command: AnyCommandDefinition, data: unknown) {
        const parsed = command.schema.safeParse(data);
        const record = { type: command.type, data: parsed.success ? parsed.data : data };
        sent.push(record);
        if (!parsed.success) invalid.push(`${command.type} ${JSON.stringify(data)}: ${parsed.error.message}`);
        const error = options.reject?.(record);
        return error === undefined ? Promise.resolve(undefined) : Promise.reject(error);
      },
    } as CommandSender;
    // Failures surface at once: no retries.
    const spec: ProcessManager<any> = Object.freeze({ ...process, failure: { retries: 0 } });
    const runner = new ProcessManagerRunner({
      store,
      bus,
      processManagers: [spec],
      processes,
      clock,
      timerPollMs: 2_147_483_647,
      logger: { warn: () => {}, error: () => {} },
    });
    const append = async (events: readonly GivenEvent[]) => {
      for (const { streamId, ...event } of events) {
        await store.append(streamId ?? 'stream-1', [event], { import: true });
      }
      await runner.waitUntilCaughtUp();
    };
    const settle = async () => {
      // A fired timer's reaction may schedule one that is due already: fire until none is.
      for (let round = 0; round < 100; round++) {
        if ((await runner.fireDueTimers()) === 0) return;
        await runner.waitUntilCaughtUp();
      }
    };
    const completedBefore = new Set<string>();
    try {
      await runner.start();
      await append(this.history);
      await settle();
      for (const key of await instanceKeys(store, process)) {
        if ((await processes.load(process.name, key))?.completed) completedBefore.add(key);
      }
      sent.length = 0;
      processes.forget();
      for (const step of this.steps) {
        if (step.kind === 'events') await append(step.events);
        else clock.advance(step.ms);
        await settle();
      }
      return await this.#observe(store, processes, { sent, invalid, completedBefore, error: undefined });
    } catch (error) {
      return await this.#observe(store, processes, { sent, invalid, completedBefore, error });
    } finally {
      await runner.stop();
      await store.close();
    }
  }

  async #observe(
    store: InMemoryEventStore,
    processes: RecordingProcessStore,
    seen: Pick<ScenarioRun, 'sent' | 'invalid' | 'error'> & { completedBefore: ReadonlySet<string> },
  ): Promise<ScenarioRun> {
    const states = new Map<string, unknown>();
    const completed: string[] = [];
    for (const key of await instanceKeys(store, this.process)) {
      const record = await processes.load(this.process.name, key);
      if (record === undefined) continue;
      states.set(key, record.state);
      if (record.completed && !seen.completedBefore.has(key)) completed.push(key);
    }
    return {
      error: seen.error,
      sent: seen.sent,
      invalid: seen.invalid,
      scheduled: processes.scheduled,
      cancelled: processes.cancelled,
      completed,
      states,
    };
  }
}

/** The correlation keys of the stored events, in log order. */
async function instanceKeys(store: InMemoryEventStore, process: ProcessManager<any>): Promise<string[]> {
  const keys = new Set<string>();
  for await (const event of store.readAll()) {
    if (!process.eventTypes.includes(event.type)) continue;
    const key = process.correlate(event);
    if (key !== undefined) keys.add(key);
  }
  return [...keys];
}
