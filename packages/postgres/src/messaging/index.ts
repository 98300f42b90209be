export type { InboxDeadLetter } from './inbox-failures.js';
export { PostgresIdempotencyStore } from './postgres-idempotency-store.js';
export { PostgresInbox, type PostgresInboxOptions } from './postgres-inbox.js';
export type { PruneOptions } from './prune.js';
