/**
 * @annals/core: what an application uses: events and upcasting, aggregates and repositories,
 * commands, projections, snapshots, retry backoff, the `EventStore` contract and the in-memory store. The kit for
 * writing a store adapter is `@annals/core/adapter`; the tsyringe wiring is `@annals/core/tsyringe`.
 * This entry has no side effects and does not touch the global `Reflect`.
 *
 * @packageDocumentation
 */

export * from './aggregate/index.js';
export * from './command/index.js';
export * from './context/index.js';
export * from './dcb/index.js';
export * from './decorators/index.js';
export * from './errors/index.js';
export * from './events/index.js';
export * from './observability/index.js';
export * from './personal-data/index.js';
export * from './process/index.js';
export * from './projection/index.js';
export * from './repository/index.js';
export * from './retry/index.js';
export * from './snapshot/index.js';
export * from './store/index.js';
export * from './upcasting/index.js';
