import type { EventFilter } from '../store/event-store.js';
import type { Projection } from './define-projection.js';

/** The events of the log a projection follows: its event types, in its streams. */
export function projectionFilter(projection: Projection<any>): EventFilter {
  return projection.streamPrefix === undefined
    ? { types: projection.eventTypes }
    : { types: projection.eventTypes, streamPrefix: projection.streamPrefix };
}
