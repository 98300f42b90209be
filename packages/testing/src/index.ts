/**
 * @annals/testing: given/when/then fixtures for aggregates and commands, and the event-store
 * conformance suite every adapter runs.
 *
 * @packageDocumentation
 */
export * from './aggregate-spec/index.js';
export * from './command-spec/index.js';
export * from './conformance/index.js';
export * from './decision-spec/index.js';
export * from './golden-samples/index.js';
export * from './process-manager-spec/index.js';
export * from './projection-spec/index.js';
