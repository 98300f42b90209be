export { deepFreeze } from './deep-freeze.js';
export {
  type AnyEventDefinition,
  defineEvent,
  type EventData,
  type EventDefinition,
  type EventType,
} from './define-event.js';
export {
  assertStreamId,
  type DecodeOptions,
  EventRegistry,
  type EventRegistryOptions,
  type PreparedEvent,
  type PrepareOptions,
  toIssues,
  type UpcastTarget,
} from './event-registry.js';
export type { EventMetadata, JsonValue, NewEvent, RecordedEvent, StoredEvent } from './event-types.js';
export { containsNul } from './json-text.js';
export { isUuid, uuidv7 } from './uuid.js';
