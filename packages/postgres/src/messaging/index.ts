export { PostgresIdempotencyStore } from './postgres-idempotency-store.js';
export { PostgresInbox, type PostgresInboxOptions } from './postgres-inbox.js';
