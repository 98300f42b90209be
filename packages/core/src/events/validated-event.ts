import type { AnyEventDefinition } from './define-event.js';
import type { PreparedEvent } from './event-preparation.js';
import type { EventMetadata, NewEvent } from './event-types.js';
import { isWellFormedText } from './exact-json.js';
import { uuidv7 } from './uuid.js';

/**
 * @internal True when `value` reads back exactly as its own JSON round trip and can never change:
 * well-formed strings without the NUL character, finite numbers (not -0), booleans, null, and frozen plain
 * objects (prototype `Object.prototype`, own data properties only) and frozen dense arrays of such
 * values. A store may keep such a value as it is instead of parsing a copy of its JSON: no reader and
 * no writer can tell the difference. Anything else (a Date, `undefined`, a getter, a mutable object
 * anywhere inside) answers false, and the caller takes the JSON path.
 */
export function isFrozenJson(value: unknown): boolean {
  switch (typeof value) {
    case 'string':
      return !value.includes('\u0000') && isWellFormedText(value);
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0);
    case 'boolean':
      return true;
    case 'object':
      return value === null || (Object.isFrozen(value) && isJsonContainer(value));
    default:
      return false;
  }
}

function isJsonContainer(value: object): boolean {
  if (Array.isArray(value)) {
    if (Object.getPrototypeOf(value) !== Array.prototype) return false;
    if (Object.getOwnPropertySymbols(value).length > 0) return false;
    const keys = Object.getOwnPropertyNames(value);
    // Indices plus 'length': anything else would be lost by a round trip.
    if (keys.length !== value.length + 1) return false;
    for (let i = 0; i < value.length; i++) {
      const descriptor = Object.getOwnPropertyDescriptor(value, i);
      if (descriptor === undefined || !('value' in descriptor) || !isFrozenJson(descriptor.value))
        return false;
    }
    return true;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return false;
  if (Object.getOwnPropertySymbols(value).length > 0) return false;
  const keys = Object.getOwnPropertyNames(value);
  for (const key of keys) {
    const descriptor = Object.getOwnPropertyDescriptor(value, key)!;
    if (!descriptor.enumerable || !('value' in descriptor)) return false;
    if (key.includes('\u0000') || !isWellFormedText(key) || !isFrozenJson(descriptor.value)) return false;
  }
  return true;
}

/**
 * @internal An event an aggregate raised: its id was generated, and its data was produced by the schema
 * of `definition` and is frozen JSON, so it can never change. Only this package creates one (the
 * brand is a private field, which no user object can carry): `EventRegistry.prepare` does not parse
 * its data a second time when `definition` is the store's own definition of the type.
 */
class ValidatedEvent implements NewEvent {
  declare readonly id: string;
  declare readonly type: string;
  declare readonly data: unknown;
  declare readonly metadata?: EventMetadata;
  readonly #definition: AnyEventDefinition;

  constructor(
    definition: AnyEventDefinition,
    id: string,
    data: unknown,
    metadata: EventMetadata | undefined,
  ) {
    this.#definition = definition;
    this.id = id;
    this.type = definition.type;
    this.data = data;
    if (metadata !== undefined) this.metadata = metadata;
    Object.freeze(this);
  }

  static definitionOf(event: unknown): AnyEventDefinition | undefined {
    return typeof event === 'object' && event !== null && #definition in event
      ? event.#definition
      : undefined;
  }
}

/**
 * @internal The frozen {@link NewEvent} an aggregate raises, from the parse output of
 * `definition`'s schema. When that data is frozen JSON all the way down (see {@link isFrozenJson}) the
 * event is a validated one (see {@link validatedBy}); otherwise it is a plain event, validated again
 * on append like any other.
 */
export function validatedEvent(definition: AnyEventDefinition, data: unknown): NewEvent {
  if (isFrozenJson(data)) return new ValidatedEvent(definition, uuidv7(), data, undefined);
  return Object.freeze({ id: uuidv7(), type: definition.type, data });
}

/**
 * @internal A frozen copy of `event` with `metadata` (frozen here) in place of its own; the copy of a
 * validated event is validated by the same definition (its id, type and data are the same values).
 */
export function withMetadata(event: NewEvent, metadata: EventMetadata): NewEvent {
  Object.freeze(metadata);
  const definition = ValidatedEvent.definitionOf(event);
  if (definition !== undefined) return new ValidatedEvent(definition, event.id!, event.data, metadata);
  return Object.freeze({ ...event, metadata });
}

/** @internal The definition that validated `event` (see {@link validatedEvent}), or undefined. */
export function validatedBy(event: NewEvent): AnyEventDefinition | undefined {
  return ValidatedEvent.definitionOf(event);
}

/**
 * @internal A prepared event whose data, and metadata when `metadataJson` is not given, are frozen
 * JSON: their JSON text cannot fail or hold a NUL, so it is only written if an adapter reads it. A
 * store may keep the frozen values themselves ({@link frozenValues}).
 */
export class FrozenPreparedEvent implements PreparedEvent {
  declare readonly id: string;
  declare readonly type: string;
  declare readonly schemaVersion: number;
  declare readonly data: unknown;
  declare readonly metadata: EventMetadata;
  declare readonly tags: readonly string[];
  #dataJson: string | undefined;
  #metadataJson: string | undefined;
  readonly #metadataFrozen: boolean;

  constructor(
    id: string,
    type: string,
    schemaVersion: number,
    data: unknown,
    metadata: EventMetadata,
    metadataJson: string | undefined,
    tags: readonly string[],
  ) {
    this.id = id;
    this.type = type;
    this.schemaVersion = schemaVersion;
    this.data = data;
    this.metadata = metadata;
    this.tags = tags;
    this.#dataJson = undefined;
    this.#metadataJson = metadataJson;
    this.#metadataFrozen = metadataJson === undefined;
  }

  get dataJson(): string {
    this.#dataJson ??= JSON.stringify(this.data);
    return this.#dataJson;
  }

  get metadataJson(): string {
    this.#metadataJson ??= JSON.stringify(this.metadata);
    return this.#metadataJson;
  }

  static metadataFrozen(event: FrozenPreparedEvent): boolean {
    return event.#metadataFrozen;
  }
}

/**
 * @internal The data and metadata a store may keep as they are, without parsing their JSON: those of
 * a {@link FrozenPreparedEvent} that are frozen JSON. Undefined where the store must parse a copy.
 */
export function frozenValues(
  event: PreparedEvent,
): { readonly data: boolean; readonly metadata: boolean } | undefined {
  if (!(event instanceof FrozenPreparedEvent)) return undefined;
  return FrozenPreparedEvent.metadataFrozen(event) ? BOTH : DATA_ONLY;
}

const BOTH = Object.freeze({ data: true, metadata: true });
const DATA_ONLY = Object.freeze({ data: true, metadata: false });
