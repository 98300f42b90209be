import type { AggregateRoot } from '../aggregate/aggregate-root.js';
import type { AppendCondition } from '../dcb/append-condition.js';
import type { SnapshotOptions } from '../snapshot/snapshot-store.js';
import type { EventStore } from '../store/event-store.js';
import type { StreamIdStrategy } from './stream-id.js';

/** An aggregate class a repository can instantiate: `new BankAccount(id)`. */
export type AggregateClass<T extends AggregateRoot = AggregateRoot> = new (id: string) => T;

/** Options of a `Repository`. */
export interface RepositoryOptions {
  /** Where the aggregate's events live. */
  readonly store: EventStore;
  /** Take snapshots every N events. Default: no snapshots. */
  readonly snapshots?: SnapshotOptions;
  /** How stream ids are derived. Default `defaultStreamId`: `${aggregateType}-${id}`. */
  readonly streamId?: StreamIdStrategy;
}

/**
 * Correlation data for `Repository.save`. Inside `bus.execute` the command context supplies
 * them; values given here win.
 */
export interface SaveOptions {
  readonly correlationId?: string;
  readonly causationId?: string;
  /** Free metadata keys stamped on every saved event. */
  readonly metadata?: Readonly<Record<string, unknown>>;
  /**
   * An append condition checked with the aggregate's expected revision (a decision model's, see
   * `buildDecisionModel`): the save fails with `AppendConditionFailed` when it no longer holds.
   */
  readonly condition?: AppendCondition;
}

/** The point in the past `Repository.loadAt` loads: a stream revision, or a moment in time. */
export type LoadAtTarget = { readonly revision: bigint | number } | { readonly at: Date };
