export {
  type AggregateOutcome,
  AggregateScenario,
  AggregateSpec,
  type AggregateSpecOptions,
} from './aggregate-spec.js';
export type { ErrorClass, ExpectedEvent } from './spec-support.js';
