/**
 * @annals/core: events, upcasting, the EventStore contract and the in-memory store, aggregates,
 * commands and projections. Adapters depend on this package; it depends on none of them.
 *
 * @packageDocumentation
 */

export * from './aggregate/index.js';
export * from './command/index.js';
export * from './errors/index.js';
export * from './events/index.js';
export * from './projection/index.js';
export * from './repository/index.js';
export * from './snapshot/index.js';
export * from './store/index.js';
export * from './upcasting/index.js';
export * from './wiring/index.js';
