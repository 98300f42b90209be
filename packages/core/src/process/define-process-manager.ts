import type { AnyCommandDefinition, CommandInput } from '../command/define-command.js';
import { isAnnalsError } from '../errors/annals-error.js';
import type { AnyEventDefinition, EventData } from '../events/define-event.js';
import type { RecordedEvent } from '../events/event-types.js';
import type { ProjectionFailurePolicy } from '../projection/failure-policy.js';
import { MAX_PROJECTION_NAME_LENGTH } from '../store/limits.js';
import { storeKeyProblem } from '../store/store-key.js';
import { ProcessManagerDefinitionInvalid } from './process-errors.js';
import type { RejectionInfo } from './process-store.js';

/** When a timer fires: at an instant, or a delay after the reaction that schedules it (by the runner's clock). */
export type TimerWhen = { readonly at: Date } | { readonly after: number };

/** What a timer carries back: a JSON object whose `type` names the timer (and its handler in `timers`). */
export interface TimerMessage {
  readonly type: string;
  readonly [field: string]: unknown;
}

/** A command a reaction sent that was rejected, as a compensation receives it. */
export interface ProcessFailure {
  /** The rejected command's type. */
  readonly commandType: string;
  /** Its payload, as sent. */
  readonly data: unknown;
  /** Its id (deterministic: the same on a re-run). */
  readonly commandId: string;
  /** The error as recorded: branch on `code` or `name`, the same on a re-run after a crash. */
  readonly error: RejectionInfo;
}

/**
 * What a reaction does, recorded and carried out once the reaction returns: commands are sent
 * through the command bus in order (each with a deterministic id), timers scheduled or cancelled,
 * the process completed. A reaction must be deterministic: a crash makes it run again on the same
 * state and input, and it must decide the same.
 */
export interface ReactionContext {
  /** The instance's correlation key. */
  readonly key: string;
  /** The runner's clock when the reaction runs. */
  readonly now: Date;
  /** Sends `command` with `data`. Should it be rejected, the commands after it are not sent and the compensation runs. */
  send<C extends AnyCommandDefinition>(command: C, data: CommandInput<C>): void;
  /** Schedules a timer named `message.type`, replacing a pending one of that name. */
  schedule(when: TimerWhen, message: TimerMessage): void;
  /** Cancels the pending timer named `name`, if any. */
  cancel(name: string): void;
  /** Ends the process: its pending timers are cancelled and later inputs ignored. */
  complete(): void;
}

/** Reacts to an input: `state` is the instance's state after it. */
export type Reaction<TState, TInput> = (
  state: TState,
  input: TInput,
  context: ReactionContext,
) => void | Promise<void>;

/** Options of {@link defineProcessManager}. */
export interface ProcessManagerOptions<TEvents extends readonly AnyEventDefinition[], TState> {
  /** Unique name; it keys the checkpoint, the lease, the instances and the timers. */
  readonly name: string;
  /** The definitions of the events it handles. */
  readonly events: TEvents;
  /** The instance an event belongs to (a transfer id...); undefined: the event is not this process's. */
  readonly correlate: (event: ProcessEventOf<TEvents>) => string | undefined;
  /** The state of a new instance (JSON). */
  readonly initialState: () => TState;
  /** Evolves the state by an event, keyed by event type; a type without one leaves the state as is. */
  readonly evolve?: {
    readonly [K in TEvents[number]['type']]?: (
      state: NoInfer<TState>,
      event: EventOfType<TEvents, K>,
    ) => NoInfer<TState>;
  };
  /** Reactions to events, keyed by event type, called with the evolved state. */
  readonly react?: {
    readonly [K in TEvents[number]['type']]?: Reaction<NoInfer<TState>, EventOfType<TEvents, K>>;
  };
  /** Reactions to due timers, keyed by the timer message's `type`. */
  readonly timers?: Readonly<Record<string, Reaction<NoInfer<TState>, TimerMessage>>>;
  /**
   * Runs when a command a reaction sent is rejected (see `isRejection`): sends what undoes or
   * records the failure. A command it sends that is rejected too stops the process manager at that
   * input (`ProcessCompensationFailed`).
   */
  readonly compensate?: Reaction<NoInfer<TState>, ProcessFailure>;
  /**
   * Which errors of a sent command are a rejection (the step failed: compensate) rather than trouble
   * to retry. Default: any error except the store being unavailable or closed, a concurrency
   * conflict, a lost lease and a missing handler.
   */
  readonly isRejection?: (error: unknown) => boolean;
  /** Retries of an input whose handling fails (not a rejection): as a projection's. Default: 3 retries, then stop. */
  readonly failure?: ProjectionFailurePolicy;
}

/** The recorded events of a list of definitions, as a union typed by `type`. */
export type ProcessEventOf<TEvents extends readonly AnyEventDefinition[]> = {
  [K in TEvents[number]['type']]: EventOfType<TEvents, K>;
}[TEvents[number]['type']];

type EventOfType<TEvents extends readonly AnyEventDefinition[], K> = RecordedEvent<
  K & string,
  EventData<Extract<TEvents[number], { readonly type: K }>>
>;

/** A checked, frozen process manager definition, for a `ProcessManagerRunner`. */
export interface ProcessManager<TState = unknown> {
  readonly name: string;
  /** The event types it handles. */
  readonly eventTypes: readonly string[];
  /** The timer types it has reactions for. */
  readonly timerTypes: readonly string[];
  readonly failure: ProjectionFailurePolicy | undefined;
  /** True when the definition declares a compensation. */
  readonly compensates: boolean;
  correlate(event: RecordedEvent): string | undefined;
  initialState(): TState;
  evolve(state: TState, event: RecordedEvent): TState;
  react(state: TState, event: RecordedEvent, context: ReactionContext): Promise<void>;
  onTimer(state: TState, message: TimerMessage, context: ReactionContext): Promise<void>;
  compensate(state: TState, failure: ProcessFailure, context: ReactionContext): Promise<void>;
  isRejection(error: unknown): boolean;
}

/** Codes of errors that are trouble to retry, never a step's rejection. */
const NOT_REJECTIONS = new Set([
  'STORE_UNAVAILABLE',
  'STORE_CLOSED',
  'CONCURRENCY_CONFLICT',
  'LEASE_LOST',
  'HANDLER_NOT_FOUND',
]);

/** The default {@link ProcessManagerOptions.isRejection}. */
export function defaultIsRejection(error: unknown): boolean {
  return !(isAnnalsError(error) && NOT_REJECTIONS.has(error.code));
}

/**
 * Defines a process manager: a long-running process keyed by a correlation derived from each event
 * (a transfer id), whose state its events evolve, and which reacts with commands, timers and
 * compensations. A `ProcessManagerRunner` runs it.
 *
 * @example
 * ```ts
 * const Shipping = defineProcessManager({
 *   name: 'shipping',
 *   events: [OrderPlaced, OrderShipped],
 *   correlate: (e) => e.data.orderId,
 *   initialState: () => ({ shipped: false }),
 *   evolve: { OrderShipped: (s) => ({ ...s, shipped: true }) },
 *   react: {
 *     OrderPlaced: (s, e, ctx) => {
 *       ctx.send(ReserveStock, { orderId: e.data.orderId });
 *       ctx.schedule({ after: 86_400_000 }, { type: 'ShippingOverdue' });
 *     },
 *     OrderShipped: (s, e, ctx) => ctx.complete(),
 *   },
 *   timers: { ShippingOverdue: (s, m, ctx) => ctx.send(NotifySupport, { orderId: ctx.key }) },
 * });
 * ```
 */
export function defineProcessManager<const TEvents extends readonly AnyEventDefinition[], TState>(
  options: ProcessManagerOptions<TEvents, TState>,
): ProcessManager<TState> {
  if (typeof options !== 'object' || options === null) {
    throw new ProcessManagerDefinitionInvalid(
      undefined,
      `defineProcessManager expects an options object, found ${String(options)}.`,
    );
  }
  const { name } = options;
  const nameProblem =
    typeof name === 'string' && name.trim().length === 0
      ? `found ${JSON.stringify(name)}`
      : typeof name === 'string' && name.length > MAX_PROJECTION_NAME_LENGTH
        ? `found ${name.length} characters`
        : storeKeyProblem(name);
  if (nameProblem !== undefined) {
    throw new ProcessManagerDefinitionInvalid(
      undefined,
      `name must be a non-empty string of well-formed text without the NUL character, of at most ${MAX_PROJECTION_NAME_LENGTH} characters; ${nameProblem}.`,
    );
  }
  const invalid = (problem: string) => new ProcessManagerDefinitionInvalid(name, problem);
  if (!Array.isArray(options.events) || options.events.length === 0) {
    throw invalid(
      `events must list the definitions of the events it handles, found ${describe(options.events)}.`,
    );
  }
  const eventTypes = [...new Set(options.events.map((d) => d?.type))];
  if (eventTypes.some((t) => typeof t !== 'string')) {
    throw invalid('events must hold event definitions made by defineEvent.');
  }
  for (const [option, value] of [
    ['correlate', options.correlate],
    ['initialState', options.initialState],
  ] as const) {
    if (typeof value !== 'function') throw invalid(`${option} must be a function, found ${describe(value)}.`);
  }
  const evolvers = handlerMap(invalid, 'evolve', options.evolve, eventTypes);
  const reactions = handlerMap(invalid, 'react', options.react, eventTypes);
  const timers = handlerMap(invalid, 'timers', options.timers, undefined);
  for (const [option, value] of [
    ['compensate', options.compensate],
    ['isRejection', options.isRejection],
  ] as const) {
    if (value !== undefined && typeof value !== 'function') {
      throw invalid(`${option} must be a function when given, found ${describe(value)}.`);
    }
  }
  const compensate = options.compensate as Reaction<TState, ProcessFailure> | undefined;
  const isRejection = options.isRejection ?? defaultIsRejection;
  const correlate = options.correlate as (event: RecordedEvent) => string | undefined;
  return Object.freeze({
    name,
    eventTypes: Object.freeze(eventTypes as string[]),
    timerTypes: Object.freeze([...timers.keys()]),
    failure: options.failure,
    compensates: compensate !== undefined,
    correlate(event: RecordedEvent) {
      const key = correlate(event);
      if (key === undefined) return undefined;
      const problem = storeKeyProblem(key);
      if (problem !== undefined) {
        throw invalid(
          `correlate must return a non-empty string (or undefined to ignore the event); for ${event.type} ${event.id} it ${problem.replace(/^found/, 'returned')}.`,
        );
      }
      return key;
    },
    initialState: () => options.initialState(),
    evolve(state: TState, event: RecordedEvent): TState {
      const evolve = evolvers.get(event.type) as ((s: TState, e: RecordedEvent) => TState) | undefined;
      return evolve === undefined ? state : evolve(state, event);
    },
    async react(state: TState, event: RecordedEvent, context: ReactionContext) {
      await (reactions.get(event.type) as Reaction<TState, RecordedEvent> | undefined)?.(
        state,
        event,
        context,
      );
    },
    async onTimer(state: TState, message: TimerMessage, context: ReactionContext) {
      await (timers.get(message.type) as Reaction<TState, TimerMessage> | undefined)?.(
        state,
        message,
        context,
      );
    },
    async compensate(state: TState, failure: ProcessFailure, context: ReactionContext) {
      await compensate?.(state, failure, context);
    },
    isRejection: (error: unknown) => isRejection(error),
  });
}

function handlerMap(
  invalid: (problem: string) => Error,
  option: string,
  value: unknown,
  known: readonly unknown[] | undefined,
): Map<string, (...args: any[]) => unknown> {
  const map = new Map<string, (...args: any[]) => unknown>();
  if (value === undefined) return map;
  if (typeof value !== 'object' || value === null) {
    throw invalid(`${option} must be an object of functions keyed by type, found ${describe(value)}.`);
  }
  for (const [type, handler] of Object.entries(value)) {
    if (handler === undefined) continue;
    if (typeof handler !== 'function') {
      throw invalid(`${option}.${type} must be a function, found ${describe(handler)}.`);
    }
    if (known !== undefined && !known.includes(type)) {
      throw invalid(`${option} has a key ${type}, which is not among its events (${known.join(', ')}).`);
    }
    map.set(type, handler as (...args: any[]) => unknown);
  }
  return map;
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return value.length === 0 ? 'an empty array' : 'an array';
  return value === null ? 'null' : typeof value;
}
