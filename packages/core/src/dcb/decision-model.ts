import { currentStoreTransaction } from '../context/store-transaction.js';
import { InvalidArgument } from '../errors/store-errors.js';
import type { RecordedEvent } from '../events/event-types.js';
import type { EventStore, ReadAllOptions } from '../store/event-store.js';
import type { AppendCondition } from './append-condition.js';
import { assertEventQuery, type EventQuery, matchesQuery } from './event-query.js';

/**
 * One part of a decision model: the events it depends on (`query`) folded into a state, as on
 * dcb.events. Built with {@link decisionProjection}.
 */
export interface DecisionProjection<S> {
  readonly query: EventQuery;
  readonly initialState: S;
  /** The next state after `event` (one the query matched), in log order. */
  apply(state: S, event: RecordedEvent): S;
}

/**
 * Defines a {@link DecisionProjection}: checks the query and keeps `apply`.
 *
 * @example
 * ```ts
 * const subscriptions = (courseId: string) =>
 *   decisionProjection({
 *     query: { items: [{ types: ['StudentSubscribed'], tags: [`course:${courseId}`] }] },
 *     initialState: 0,
 *     apply: (count) => count + 1,
 *   });
 * ```
 */
export function decisionProjection<S>(projection: {
  readonly query: EventQuery;
  readonly initialState: S;
  readonly apply: (state: S, event: RecordedEvent) => S;
}): DecisionProjection<S> {
  assertEventQuery(projection.query, 'decisionProjection: query');
  if (typeof projection.apply !== 'function') {
    throw new InvalidArgument(
      `decisionProjection expects apply to be a function (state, event) => state, found ${typeof projection.apply}.`,
    );
  }
  return Object.freeze({ ...projection });
}

/** The states of a set of named projections. */
export type DecisionState<P extends Record<string, DecisionProjection<unknown>>> = {
  readonly [K in keyof P]: P[K] extends DecisionProjection<infer S> ? S : never;
};

/** What {@link buildDecisionModel} returns: the state and the condition that protects it. */
export interface DecisionModel<S> {
  readonly state: S;
  /**
   * Fails the append when an event that any of the projections would have seen was appended after
   * this read: pass it as `append(..., { condition })`.
   */
  readonly condition: AppendCondition;
}

/**
 * Reads every event matching the projections' queries (one read of the global log, in order), folds
 * each into the projections whose query it matches, and returns the states with the append condition
 * that protects them: the union of the queries, after the last event read. Append with it; an
 * `AppendConditionFailed` means the decision was made on stale state (retry the command:
 * `retryOnConcurrency` does).
 *
 * Inside a command that runs in a store transaction of `store` (`PostgresIdempotencyStore` opens
 * one), the read joins it, as repositories do: on a single connection (PGlite) a read beside the
 * transaction would wait for it forever.
 *
 * @example
 * ```ts
 * const { state, condition } = await buildDecisionModel(store, {
 *   subscribed: subscriptions('c1'),
 *   capacity: courseCapacity('c1'),
 * });
 * if (state.subscribed >= state.capacity) throw new Error('course full');
 * await store.append('course-c1', [StudentSubscribed.create({ ... })], { condition });
 * ```
 */
export async function buildDecisionModel<P extends Record<string, DecisionProjection<unknown>>>(
  store: EventStore,
  projections: P,
): Promise<DecisionModel<DecisionState<P>>> {
  if (store.capabilities.appendConditions !== true) {
    throw new InvalidArgument(
      'buildDecisionModel needs a store with append conditions (capabilities.appendConditions), found a store without.',
    );
  }
  const entries = Object.entries(projections);
  if (entries.length === 0) {
    throw new InvalidArgument('buildDecisionModel needs at least one projection, found none.');
  }
  const states = new Map<string, unknown>(entries.map(([name, p]) => [name, p.initialState]));
  const query: EventQuery = { items: entries.flatMap(([, p]) => p.query.items) };
  let last: bigint | undefined;
  const scope = currentStoreTransaction();
  const options: ReadAllOptions & { transaction?: unknown } =
    scope !== undefined && scope.store === store
      ? { filter: { query }, transaction: scope.transaction }
      : { filter: { query } };
  for await (const event of store.readAll(options)) {
    last = event.position;
    for (const [name, projection] of entries) {
      if (matchesQuery(projection.query, event)) {
        states.set(name, projection.apply(states.get(name), event));
      }
    }
  }
  const state = Object.freeze(Object.fromEntries(states)) as DecisionState<P>;
  const condition: AppendCondition =
    last === undefined ? { failIfEventsMatch: query } : { failIfEventsMatch: query, after: last };
  return { state, condition };
}
