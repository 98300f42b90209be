export {
  DEFAULT_MAX_EVENT_BYTES,
  DEFAULT_PAGE_SIZE,
  isStreamOrderConflict,
  type MigrationReport,
  type PostgresAppendOptions,
  PostgresEventStore,
  type PostgresEventStoreOptions,
  type PostgresReadStreamOptions,
} from './postgres-event-store.js';
export {
  OUTAGE_RETRY_MAX_MS,
  type SubscriptionHealth,
  type SubscriptionOutageOptions,
} from './subscription-outage.js';
