export {
  type AppendCondition,
  AppendConditionFailed,
  type AppendToStreamsOptions,
  type AppendToStreamsResult,
  isAppendConditionFailed,
  type StreamWrite,
} from './append-condition.js';
export {
  buildDecisionModel,
  type DecisionModel,
  type DecisionProjection,
  type DecisionState,
  decisionProjection,
} from './decision-model.js';
export {
  assertEventQuery,
  describeQuery,
  type EventQuery,
  type EventQueryItem,
  matchesQuery,
  type Taggable,
} from './event-query.js';
export { MAX_TAG_BYTES, MAX_TAGS_PER_EVENT } from './tags.js';
