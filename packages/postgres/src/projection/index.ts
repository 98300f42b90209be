export { deadLetterEvent, discardDeadLetter, retryDeadLetter } from './dead-letter-retry.js';
export { PostgresDeadLetterStore } from './postgres-dead-letter-store.js';
export { PostgresEventLogStats, type PostgresLogLocation } from './postgres-event-log-stats.js';
export { PostgresLeaseStore } from './postgres-lease-store.js';
export { PostgresProjectionControl } from './postgres-projection-control.js';
export {
  type PostgresProjectionContext,
  PostgresProjectionRunner,
  type PostgresProjectionRunnerOptions,
} from './postgres-projection-runner.js';
export { type ProjectionOverview, readProjectionOverview } from './projection-overview.js';
