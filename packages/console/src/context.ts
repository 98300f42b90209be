import type { Projection } from '@annals/core';
import type { PostgresEventStore, PostgresProjectionContext } from '@annals/postgres';
import type { ActionGate } from './action-gate.js';
import type { AggregateStates } from './aggregate-states.js';
import type { EventReader } from './event-reader.js';
import type { LiveFeeds } from './live-feeds.js';
import type { RebuildJobs } from './rebuild-jobs.js';

/** What the routes share: the store, its readers, the configured projections, the action gate. */
export interface ConsoleContext {
  readonly store: PostgresEventStore;
  readonly reader: EventReader;
  readonly aggregates: AggregateStates;
  readonly projections: readonly Projection<PostgresProjectionContext>[];
  readonly gate: ActionGate;
  readonly rebuilds: RebuildJobs;
  readonly live: LiveFeeds;
}
