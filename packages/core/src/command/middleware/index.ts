export {
  type IdempotencyOptions,
  type IdempotencyRecord,
  type IdempotencyStore,
  InMemoryIdempotencyStore,
  type InMemoryIdempotencyStoreOptions,
  idempotency,
  type TransactionalIdempotencyStore,
} from './idempotency.js';
export { type CommandLogger, logging } from './logging.js';
export { type RetryOnConcurrencyOptions, retryOnConcurrency } from './retry-on-concurrency.js';
