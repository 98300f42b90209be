import type { EventFilter } from '../store/event-store.js';
import type { Projection } from './define-projection.js';

/** The events of the log a projection follows: its event types, in its streams, matching its query. */
export function projectionFilter(projection: Projection<any>): EventFilter {
  return {
    types: projection.eventTypes,
    ...(projection.streamPrefix === undefined ? {} : { streamPrefix: projection.streamPrefix }),
    ...(projection.query === undefined ? {} : { query: projection.query }),
  };
}
