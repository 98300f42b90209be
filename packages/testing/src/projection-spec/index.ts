export {
  type GivenEvent,
  ProjectionScenario,
  ProjectionSpec,
  type ProjectionSpecOptions,
} from './projection-spec.js';
