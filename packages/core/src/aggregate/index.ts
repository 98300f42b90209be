export { AggregateDefinitionInvalid, MissingApplyHandler } from './aggregate-errors.js';
export {
  Aggregate,
  type AggregateDefinition,
  type AggregateOptions,
  Apply,
  type ApplyHandler,
  aggregateDefinition,
} from './aggregate-metadata.js';
export { AggregateRoot } from './aggregate-root.js';
