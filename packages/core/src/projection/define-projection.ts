import { assertEventQuery, type EventQuery } from '../dcb/event-query.js';
import type { AnyEventDefinition, EventData } from '../events/define-event.js';
import type { RecordedEvent } from '../events/event-types.js';
import { MAX_PROJECTION_NAME_LENGTH } from '../store/limits.js';
import { storeKeyProblem } from '../store/store-key.js';
import {
  type ProjectionFailurePolicy,
  type ResolvedFailurePolicy,
  resolveFailurePolicy,
} from './failure-policy.js';
import { ProjectionDefinitionInvalid } from './projection-errors.js';

/**
 * The context a handler receives when nothing more precise is declared. On Postgres it is
 * `{ tx }`, the Kysely transaction of the batch (see `PostgresProjectionContext`); in memory it is
 * whatever the runner's `context` option builds.
 */
export type ProjectionContext = Readonly<Record<string, any>>;

/** Applies one event to a read model. Awaited: the next event waits for it. */
export type ProjectionHandler<E = RecordedEvent, TContext = ProjectionContext> = (
  event: E,
  context: TContext,
) => void | Promise<void>;

/**
 * Applies a batch of events to a read model, in order, in one go (one set-based write for the whole
 * batch). Awaited: the next batch waits for it. On PostgreSQL it runs in the batch's transaction,
 * before the checkpoint moves past the batch in the same transaction.
 *
 * The runner cuts batches as events arrive, and cuts a failing batch into single events to find the
 * one that fails, so the read model must come out the same however the events are cut into batches.
 */
export type ProjectionBatchHandler<E = RecordedEvent, TContext = ProjectionContext> = (
  events: readonly E[],
  context: TContext,
) => void | Promise<void>;

/** The recorded events of a list of definitions, as a union typed by `type`. */
export type ProjectionEventOf<TEvents extends readonly AnyEventDefinition[]> = {
  [K in TEvents[number]['type']]: RecordedEvent<K, EventData<Extract<TEvents[number], { readonly type: K }>>>;
}[TEvents[number]['type']];

/** Handlers keyed by event type, typed from the event definitions. */
export type ProjectionHandlersFor<TEvents extends readonly AnyEventDefinition[], TContext> = {
  readonly [K in TEvents[number]['type']]?: ProjectionHandler<
    RecordedEvent<K, EventData<Extract<TEvents[number], { readonly type: K }>>>,
    TContext
  >;
};

interface ProjectionOptionsBase<TContext> {
  /** Unique name; it keys the checkpoint and the lease. Changing it starts the projection from zero. */
  readonly name: string;
  /**
   * Clears the read model for a rebuild. Runs in the same transaction that moves the checkpoint back
   * to zero (on Postgres), so a crash mid-reset changes nothing. Without it, `rebuild` is refused.
   */
  readonly reset?: (context: TContext) => void | Promise<void>;
  /** Events per batch (one transaction and one checkpoint write per batch). Default: the runner's. */
  readonly batchSize?: number;
  /** Retry and poison-event policy. Default: 3 retries with backoff, then stop. */
  readonly failure?: ProjectionFailurePolicy;
  /**
   * Split the projection into this many shards by a hash of the stream id (see `shardOf`), each with
   * its own checkpoint and lease, so several runners share the work. Events of one stream stay in
   * order; events of different streams may be applied in any order across shards. Default 1.
   * Changing it later needs a rebuild.
   */
  readonly shards?: number;
  /**
   * Follow only the streams whose id starts with this prefix (with the event types, the runner's
   * filter on the log). Default: every stream.
   */
  readonly streamPrefix?: string;
  /**
   * Follow only the events matching this query (by type and tags; see `EventQuery`), on top of the
   * handled types and `streamPrefix`. Default: every event of the handled types.
   */
  readonly query?: EventQuery;
  /** Shorthand for `query: { items: [{ tags }] }`: follow only events carrying all these tags. */
  readonly tags?: readonly string[];
  /**
   * Recognises failures of the infrastructure the handlers write to (a broker that is down) rather
   * than of an event: they are retried with backoff for as long as they last and never count towards
   * the failure policy, as the runner's own `isTransient`. Default: none beyond the runner's.
   */
  readonly isTransient?: (error: unknown) => boolean;
}

/** Options of {@link defineProjection} when the handled events are given as definitions (typed handlers). */
export interface TypedProjectionOptions<TEvents extends readonly AnyEventDefinition[], TContext>
  extends ProjectionOptionsBase<TContext> {
  /** The definitions of the events handled; every handler key must be one of their types. */
  readonly events: TEvents;
  readonly handlers: ProjectionHandlersFor<TEvents, TContext>;
  /** A projection has either `handlers` or `handleBatch`, never both. */
  readonly handleBatch?: undefined;
}

/** Options of {@link defineProjection} keyed by plain type names (data is `unknown`). */
export interface UntypedProjectionOptions<TContext> extends ProjectionOptionsBase<TContext> {
  readonly events?: undefined;
  readonly handlers: Readonly<Record<string, ProjectionHandler<RecordedEvent, TContext>>>;
  /** A projection has either `handlers` or `handleBatch`, never both. */
  readonly handleBatch?: undefined;
}

/**
 * Options of {@link defineProjection} for a projection that applies whole batches: `handleBatch`
 * receives the events of a batch (of the types in `events`, in log order) and writes them in one go.
 */
export interface BatchProjectionOptions<TEvents extends readonly AnyEventDefinition[], TContext>
  extends ProjectionOptionsBase<TContext> {
  /** The definitions of the events handled: the batch holds events of these types only. */
  readonly events: TEvents;
  readonly handleBatch: ProjectionBatchHandler<ProjectionEventOf<TEvents>, TContext>;
  /** A projection has either `handlers` or `handleBatch`, never both. */
  readonly handlers?: undefined;
}

/** A checked, frozen projection definition, ready for a {@link ProjectionRunner}. */
export interface Projection<TContext = ProjectionContext> {
  readonly name: string;
  /** The event types with a handler: the runner subscribes to these only. */
  readonly eventTypes: readonly string[];
  /** Batch size requested by the definition, if any. */
  readonly batchSize: number | undefined;
  readonly failure: ResolvedFailurePolicy;
  readonly shards: number;
  /** True when a reset hook exists (rebuild is possible). */
  readonly resettable: boolean;
  /**
   * True when the projection was defined with `handleBatch`: the runner then hands it whole batches,
   * and falls back to one event at a time only to find the event a failing batch fails on.
   */
  readonly batched: boolean;
  /** The prefix of the stream ids followed, when not every stream is. */
  readonly streamPrefix?: string;
  /** The query the followed events match, when not every event of the handled types is followed. */
  readonly query?: EventQuery;
  /** Failures of the handlers' infrastructure to retry without end (see the option). */
  readonly isTransient?: (error: unknown) => boolean;
  /**
   * Applies one event: calls the handler of its type (or the batch handler with that one event);
   * events of other types are ignored.
   */
  handle(event: RecordedEvent, context: TContext): Promise<void>;
  /**
   * Applies events in order: the batch handler once with all of them, or each one's handler in turn.
   * Events of other types are ignored; with none left, nothing is called.
   */
  handleBatch(events: readonly RecordedEvent[], context: TContext): Promise<void>;
  /** Runs the reset hook. Throws {@link ProjectionDefinitionInvalid} when there is none. */
  reset(context: TContext): Promise<void>;
}

const MAX_SHARDS = 1024;

/**
 * Defines a projection: handlers keyed by event type that turn events into a read model, or one
 * `handleBatch` that applies a whole batch at once (one set-based write per batch instead of one
 * per event). A projection has one or the other: given both, it is refused with
 * {@link ProjectionDefinitionInvalid}.
 *
 * Give `events` to have the handlers typed from the definitions (data after upcasting); annotate the
 * context parameter to type it (on Postgres: `PostgresProjectionContext<DB>`). `handleBatch` needs
 * `events`: they say which types the batches hold.
 *
 * @example
 * ```ts
 * export const AccountBalances = defineProjection({
 *   name: 'account-balances',
 *   events: [AccountOpened, MoneyDeposited],
 *   handlers: {
 *     AccountOpened: async (e, { tx }: PostgresProjectionContext<ReadModel>) => {
 *       await tx.insertInto('account_balances').values({ id: e.data.accountId, balance: 0 }).execute();
 *     },
 *     MoneyDeposited: async (e, { tx }: PostgresProjectionContext<ReadModel>) => { ... },
 *   },
 *   reset: async ({ tx }) => { await tx.deleteFrom('account_balances').execute(); },
 * });
 * ```
 */
export function defineProjection<
  const TEvents extends readonly AnyEventDefinition[],
  TContext = ProjectionContext,
>(options: BatchProjectionOptions<TEvents, TContext>): Projection<TContext>;
export function defineProjection<
  const TEvents extends readonly AnyEventDefinition[],
  TContext = ProjectionContext,
>(options: TypedProjectionOptions<TEvents, TContext>): Projection<TContext>;
export function defineProjection<TContext = ProjectionContext>(
  options: UntypedProjectionOptions<TContext>,
): Projection<TContext>;
export function defineProjection<TContext>(
  options:
    | TypedProjectionOptions<readonly AnyEventDefinition[], TContext>
    | UntypedProjectionOptions<TContext>
    | BatchProjectionOptions<readonly AnyEventDefinition[], TContext>,
): Projection<TContext> {
  if (typeof options !== 'object' || options === null) {
    throw new ProjectionDefinitionInvalid(
      undefined,
      `defineProjection expects an options object, found ${String(options)}.`,
    );
  }
  const { name } = options;
  const nameProblem =
    typeof name === 'string' && name.trim().length === 0
      ? `found ${JSON.stringify(name)}`
      : typeof name === 'string' && name.length > MAX_PROJECTION_NAME_LENGTH
        ? `found ${name.length} characters (${JSON.stringify(`${name.slice(0, 40)}...`)})`
        : storeKeyProblem(name);
  if (nameProblem !== undefined) {
    throw new ProjectionDefinitionInvalid(
      undefined,
      `defineProjection expects name to be a non-empty string of well-formed text without the NUL character, of at most ${MAX_PROJECTION_NAME_LENGTH} characters (MAX_PROJECTION_NAME_LENGTH: its checkpoint and lease keys must fit in MAX_KEY_BYTES); ${nameProblem}.`,
    );
  }
  const rawBatch = (options as { handleBatch?: unknown }).handleBatch;
  const rawHandlers = options.handlers as Readonly<Record<string, unknown>> | undefined;
  if (rawBatch !== undefined && rawHandlers !== undefined) {
    throw new ProjectionDefinitionInvalid(
      name,
      'it has both handlers and handleBatch; give one or the other (handleBatch receives every event type it lists in events).',
    );
  }
  const handlers = new Map<string, ProjectionHandler<RecordedEvent, TContext>>();
  let batchHandler: ProjectionBatchHandler<RecordedEvent, TContext> | undefined;
  let eventTypes: string[];
  if (rawBatch !== undefined) {
    if (typeof rawBatch !== 'function') {
      throw new ProjectionDefinitionInvalid(
        name,
        `handleBatch must be a function, found ${typeof rawBatch}.`,
      );
    }
    if (!Array.isArray(options.events) || options.events.length === 0) {
      throw new ProjectionDefinitionInvalid(
        name,
        `handleBatch needs events, the definitions of the event types it handles; found ${
          Array.isArray(options.events) ? 'an empty array' : typeof options.events
        }.`,
      );
    }
    batchHandler = rawBatch as ProjectionBatchHandler<RecordedEvent, TContext>;
    eventTypes = [...new Set(options.events.map((d) => d.type))];
  } else {
    if (typeof rawHandlers !== 'object' || rawHandlers === null) {
      throw new ProjectionDefinitionInvalid(
        name,
        `handlers must be an object keyed by event type (or give handleBatch), found ${String(rawHandlers)}.`,
      );
    }
    for (const [type, handler] of Object.entries(rawHandlers)) {
      if (handler === undefined) continue;
      if (typeof handler !== 'function') {
        throw new ProjectionDefinitionInvalid(
          name,
          `the handler for ${type} must be a function, found ${typeof handler}.`,
        );
      }
      handlers.set(type, handler as ProjectionHandler<RecordedEvent, TContext>);
    }
    if (handlers.size === 0) {
      throw new ProjectionDefinitionInvalid(name, 'handlers must hold at least one handler, found none.');
    }
    if (options.events !== undefined) {
      if (!Array.isArray(options.events)) {
        throw new ProjectionDefinitionInvalid(
          name,
          `events must be an array of event definitions, found ${typeof options.events}.`,
        );
      }
      const known = new Set(options.events.map((d) => d.type));
      for (const type of handlers.keys()) {
        if (!known.has(type)) {
          throw new ProjectionDefinitionInvalid(
            name,
            `a handler is keyed ${type}, which is not among its events (${[...known].join(', ') || 'none'}).`,
          );
        }
      }
    }
    eventTypes = [...handlers.keys()];
  }
  const batchSize = options.batchSize;
  if (batchSize !== undefined && (!Number.isSafeInteger(batchSize) || batchSize < 1)) {
    throw new ProjectionDefinitionInvalid(
      name,
      `batchSize must be a positive integer, found ${String(batchSize)}.`,
    );
  }
  const shards = options.shards ?? 1;
  if (!Number.isSafeInteger(shards) || shards < 1 || shards > MAX_SHARDS) {
    throw new ProjectionDefinitionInvalid(
      name,
      `shards must be an integer from 1 to ${MAX_SHARDS}, found ${String(shards)}.`,
    );
  }
  if (options.reset !== undefined && typeof options.reset !== 'function') {
    throw new ProjectionDefinitionInvalid(name, `reset must be a function, found ${typeof options.reset}.`);
  }
  const { streamPrefix, isTransient } = options;
  if (streamPrefix !== undefined && (typeof streamPrefix !== 'string' || streamPrefix.length === 0)) {
    throw new ProjectionDefinitionInvalid(
      name,
      `streamPrefix must be a non-empty string, found ${JSON.stringify(streamPrefix)}.`,
    );
  }
  const query = projectionQuery(name, options.query, options.tags);
  if (isTransient !== undefined && typeof isTransient !== 'function') {
    throw new ProjectionDefinitionInvalid(
      name,
      `isTransient must be a function, found ${typeof isTransient}.`,
    );
  }
  const failure = resolveFailurePolicy(name, options.failure);
  const reset = options.reset;
  const handled = new Set(eventTypes);
  const handle =
    batchHandler === undefined
      ? async (event: RecordedEvent, context: TContext): Promise<void> => {
          const handler = handlers.get(event.type);
          if (handler !== undefined) await handler(event, context);
        }
      : async (event: RecordedEvent, context: TContext): Promise<void> => {
          if (handled.has(event.type)) await batchHandler([event], context);
        };
  const handleBatch =
    batchHandler === undefined
      ? async (events: readonly RecordedEvent[], context: TContext): Promise<void> => {
          for (const event of events) {
            const handler = handlers.get(event.type);
            if (handler !== undefined) await handler(event, context);
          }
        }
      : async (events: readonly RecordedEvent[], context: TContext): Promise<void> => {
          const mine = events.every((e) => handled.has(e.type))
            ? events
            : events.filter((e) => handled.has(e.type));
          if (mine.length > 0) await batchHandler(mine, context);
        };
  return Object.freeze({
    name,
    eventTypes: Object.freeze(eventTypes),
    batchSize,
    failure,
    shards,
    resettable: reset !== undefined,
    batched: batchHandler !== undefined,
    ...(streamPrefix === undefined ? {} : { streamPrefix }),
    ...(query === undefined ? {} : { query }),
    ...(isTransient === undefined ? {} : { isTransient }),
    handle,
    handleBatch,
    async reset(context: TContext): Promise<void> {
      if (reset === undefined) {
        throw new ProjectionDefinitionInvalid(
          name,
          'it has no reset hook, so its read model cannot be cleared for a rebuild.',
        );
      }
      await reset(context);
    },
  });
}

/** The checked query of a projection from its `query` or `tags` option (not both). */
function projectionQuery(
  name: string,
  query: EventQuery | undefined,
  tags: readonly string[] | undefined,
): EventQuery | undefined {
  if (query !== undefined && tags !== undefined) {
    throw new ProjectionDefinitionInvalid(name, 'give either query or tags, not both.');
  }
  const given = tags === undefined ? query : { items: [{ tags }] };
  if (given === undefined) return undefined;
  try {
    return assertEventQuery(given, tags === undefined ? 'query' : 'tags');
  } catch (error) {
    throw new ProjectionDefinitionInvalid(name, (error as Error).message);
  }
}
