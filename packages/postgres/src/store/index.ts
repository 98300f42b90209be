export { isStreamOrderConflict } from './append.js';
export { EVENTS_PER_TRANSACTION } from './append-function.js';
export {
  DEFAULT_MAX_EVENT_BYTES,
  DEFAULT_PAGE_SIZE,
  type PostgresAppendOptions,
  type PostgresEventStoreOptions,
  type PostgresReadAllOptions,
  type PostgresReadStreamOptions,
} from './options.js';
export { PostgresEventStore } from './postgres-event-store.js';
export {
  OUTAGE_RETRY_MAX_MS,
  type SubscriptionHealth,
  type SubscriptionOutageOptions,
} from './subscription-outage.js';
