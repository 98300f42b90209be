export {
  type DecisionGivenEvent,
  type DecisionOutcome,
  DecisionScenario,
  DecisionSpec,
} from './decision-spec.js';
