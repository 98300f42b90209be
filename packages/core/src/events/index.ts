export type { UpcastTarget } from './decode-plan.js';
export {
  type AnyEventDefinition,
  defineEvent,
  type EventData,
  type EventDefinition,
  type EventType,
} from './define-event.js';
export { EventRegistry, type EventRegistryOptions } from './event-registry.js';
export type { EventMetadata, JsonValue, NewEvent, RecordedEvent } from './event-types.js';
export { isUuid, uuidv7 } from './uuid.js';
