/**
 * @annals/postgres: the PostgreSQL event store on Kysely (node-postgres for a server, PGlite for the
 * embedded mode), its migrations, the checkpoint and snapshot stores that live beside it, and the
 * command idempotency store and message inbox that commit with the store's transactions.
 *
 * @packageDocumentation
 */

export * from './archive/index.js';
export * from './chain/index.js';
export * from './checkpoint/index.js';
export * from './connection/index.js';
export * from './diagnostics/index.js';
export * from './errors/index.js';
export * from './messaging/index.js';
export * from './personal-data/index.js';
export * from './process/index.js';
export * from './projection/index.js';
export * from './router/index.js';
export * from './schema/index.js';
export * from './snapshot/index.js';
export * from './store/index.js';
export { grantTenantRole } from './tenants/tenant-role.js';
