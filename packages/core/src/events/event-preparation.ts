import { eventTags } from '../dcb/tags.js';
import { EventValidationFailed, InvalidArgument, UnknownEventType } from '../errors/store-errors.js';
import type { DecodePlan, DecodePlans } from './decode-plan.js';
import type { AnyEventDefinition } from './define-event.js';
import { decodeEvent } from './event-decoding.js';
import { encodeEventData, exactJsonText } from './event-payload.js';
import type { EventMetadata, NewEvent } from './event-types.js';
import { assertStreamId } from './stream-id-check.js';
import { isUuid, uuidv7 } from './uuid.js';
import { FrozenPreparedEvent, isFrozenJson, validatedBy } from './validated-event.js';
import { describeLoneSurrogate, loneSurrogate } from './well-formed-text.js';

/** An event checked and ready to be written by an adapter. */
export interface PreparedEvent {
  readonly id: string;
  readonly type: string;
  readonly schemaVersion: number;
  readonly data: unknown;
  readonly metadata: EventMetadata;
  /** `data` serialized once as JSON, ready to store. */
  readonly dataJson: string;
  /** `metadata` serialized once as JSON, ready to store. */
  readonly metadataJson: string;
  /** Its tags (derived by its definition and given at append), checked, sorted, without duplicates. */
  readonly tags: readonly string[];
}

/** Options for `EventRegistry.prepare`. */
export interface PrepareOptions {
  /** Allow events at an older `schemaVersion` (imports and test histories). Their data must upcast to a valid current event. */
  readonly import?: boolean;
}

/** What preparing events needs of a registry. */
export interface PreparationContext {
  /** Whether undefined types are refused. */
  readonly strict: boolean;
  readonly definitions: ReadonlyMap<string, AnyEventDefinition>;
  readonly plans: DecodePlans;
}

/**
 * Validates a batch for `streamId` and assigns ids (see `EventRegistry.prepare`). Throws on the first
 * bad event, so an adapter that calls this before writing never writes part of a batch.
 */
export function prepareEvents(
  context: PreparationContext,
  streamId: string,
  events: readonly NewEvent[],
  options: PrepareOptions,
): PreparedEvent[] {
  assertStreamId(streamId);
  if (!Array.isArray(events)) {
    throw new InvalidArgument(`append to ${streamId} expects an array of events, found ${typeof events}.`);
  }
  const ids = new Set<string>();
  return events.map((event, index) => {
    const prepared = prepareOne(context, streamId, event, index, options);
    if (ids.has(prepared.id)) {
      throw new InvalidArgument(`The batch for stream ${streamId} contains event id ${prepared.id} twice.`);
    }
    ids.add(prepared.id);
    return prepared;
  });
}

function prepareOne(
  context: PreparationContext,
  streamId: string,
  event: NewEvent,
  index: number,
  options: PrepareOptions,
): PreparedEvent {
  if (typeof event !== 'object' || event === null) {
    throw new InvalidArgument(
      `Event #${index} for stream ${streamId} must be an object, found ${String(event)}.`,
    );
  }
  const validated = validatedBy(event);
  if (validated !== undefined && validated === context.definitions.get(validated.type)) {
    const prepared = prepareValidated(context, streamId, event, validated);
    if (prepared !== undefined) return prepared;
  }
  const { type } = event;
  if (typeof type !== 'string' || type.length === 0) {
    throw new EventValidationFailed(String(type), streamId, [
      {
        path: ['type'],
        code: 'invalid_type',
        message: `Expected a non-empty string, found ${JSON.stringify(type)}`,
      },
    ]);
  }
  if (type.includes('\u0000')) refuseNul(type, streamId, 'type', 'a type');
  const surrogate = loneSurrogate(type);
  if (surrogate !== undefined) {
    throw new EventValidationFailed(type, streamId, [
      {
        path: ['type'],
        code: 'unsupported_character',
        message: `Expected a type of well-formed UTF-16 text, which stores keep exactly; found ${describeLoneSurrogate(surrogate)}`,
      },
    ]);
  }
  const id = event.id ?? uuidv7();
  if (event.id !== undefined && !isUuid(id)) {
    throw new EventValidationFailed(type, streamId, [
      { path: ['id'], code: 'invalid_format', message: `Expected a UUID, found ${JSON.stringify(id)}` },
    ]);
  }
  const metadata = event.metadata ?? {};
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    throw new EventValidationFailed(type, streamId, [
      {
        path: ['metadata'],
        code: 'invalid_type',
        message: `Expected an object, found ${JSON.stringify(metadata)}`,
      },
    ]);
  }
  const metadataJson = exactJsonText(type, streamId, 'metadata', metadata);
  const declared = event.schemaVersion;
  if (declared !== undefined && (!Number.isInteger(declared) || declared < 1)) {
    throw new EventValidationFailed(type, streamId, [
      {
        path: ['schemaVersion'],
        code: 'invalid_version',
        message: `Expected an integer >= 1, found ${JSON.stringify(declared)}`,
      },
    ]);
  }
  const definition = context.definitions.get(type);
  const schemaVersion = declared ?? definition?.version ?? 1;
  const plan = context.plans.get(type, schemaVersion);
  const where = `event #${index} (${type}) for stream ${streamId}`;
  if (plan.steps.length > 0 || plan.failure !== undefined) {
    // An old version (an import): its definition derives tags from current data, so only given tags count.
    const tags = eventTags(undefined, event.tags, where);
    const old = { id, type, schemaVersion, data: event.data, metadata, metadataJson, tags };
    return prepareOld(context, streamId, old, plan, options);
  }
  if (definition === undefined) {
    if (context.strict) throw new UnknownEventType(type, [...context.definitions.keys()]);
    const dataJson = exactJsonText(type, streamId, 'data', event.data);
    const tags = eventTags(undefined, event.tags, where);
    return { id, type, schemaVersion, data: event.data, metadata, dataJson, metadataJson, tags };
  }
  const encoded = encodeEventData(definition, plan.mode!, streamId, event.data);
  const derived = definition.tags?.(plan.mode === 'codec' ? event.data : encoded.data);
  const tags = eventTags(derived, event.tags, where);
  return {
    id,
    type,
    schemaVersion,
    data: encoded.data,
    metadata,
    dataJson: encoded.json,
    metadataJson,
    tags,
  };
}

/**
 * An event an aggregate raised (see `validatedEvent`): its generated id, its type and its frozen
 * JSON data were produced by `definition`, the registry's definition of the type, so they are not
 * checked or parsed again; its metadata is. Undefined sends the event down the ordinary path (which
 * refuses it when the type is not written at its current version, or reports bad metadata).
 */
function prepareValidated(
  context: PreparationContext,
  streamId: string,
  event: NewEvent,
  definition: AnyEventDefinition,
): PreparedEvent | undefined {
  const { id, type } = event;
  if (id === undefined || event.schemaVersion !== undefined || !isStorableText(type)) return undefined;
  const plan = context.plans.get(type, definition.version);
  // A schema with codecs stores the encoded form, not the output the aggregate holds.
  if (plan.steps.length > 0 || plan.failure !== undefined || plan.mode === 'codec') return undefined;
  const metadata = event.metadata ?? NO_METADATA;
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) return undefined;
  const metadataJson = isFrozenJson(metadata)
    ? undefined
    : exactJsonText(type, streamId, 'metadata', metadata);
  const tags = eventTags(definition.tags?.(event.data), event.tags, `event ${type} for stream ${streamId}`);
  return new FrozenPreparedEvent(id, type, definition.version, event.data, metadata, metadataJson, tags);
}

/**
 * An event at a version that is upcast on read (an older version, or a type renamed away): only an
 * import may write it, and it must upcast to a valid current event, or it could never be read.
 * The check decodes the JSON that will be stored, so it proves exactly what readers will get.
 */
function prepareOld(
  context: PreparationContext,
  streamId: string,
  event: Omit<PreparedEvent, 'dataJson'>,
  plan: DecodePlan,
  options: PrepareOptions,
): PreparedEvent {
  const { id, type, schemaVersion } = event;
  const currentVersion = context.definitions.get(plan.target.type)?.version ?? plan.target.version;
  const current = `${plan.target.type} v${currentVersion}`;
  if (!options.import) {
    const renamed = plan.target.type === type ? '' : ` (renamed to ${plan.target.type})`;
    throw new EventValidationFailed(type, streamId, [
      {
        path: ['schemaVersion'],
        code: 'invalid_version',
        message: `Expected the current version ${current}; ${type} v${schemaVersion}${renamed} is read through upcasters, and only an import (append with { import: true }) may write it`,
      },
    ]);
  }
  if (plan.failure !== undefined) {
    throw new EventValidationFailed(type, streamId, [
      {
        path: ['schemaVersion'],
        code: 'invalid_version',
        message: `Expected a version that can be read as ${current}, found v${schemaVersion}: ${plan.failure}`,
      },
    ]);
  }
  const { metadataJson } = event;
  const dataJson = exactJsonText(type, streamId, 'data', event.data);
  // Throws UpcastFailed (naming the event, versions and issues) when the import could never be read.
  decodeEvent(
    {
      id,
      type,
      schemaVersion,
      streamId,
      revision: 0n,
      position: 0n,
      data: JSON.parse(dataJson),
      metadata: JSON.parse(metadataJson),
      recordedAt: new Date(0),
    },
    plan,
  );
  const { tags } = event;
  return {
    id,
    type,
    schemaVersion,
    data: event.data,
    metadata: event.metadata,
    dataJson,
    metadataJson,
    tags,
  };
}

const NO_METADATA: EventMetadata = Object.freeze({});

/** True when `text` holds neither the NUL character nor a lone surrogate. */
function isStorableText(text: string): boolean {
  return !text.includes('\u0000') && loneSurrogate(text) === undefined;
}

function refuseNul(type: string, streamId: string, field: string, what: string): never {
  throw new EventValidationFailed(type, streamId, [
    {
      path: [field],
      code: 'unsupported_character',
      message: `Expected ${what} without the NUL character (\\u0000), which stores cannot keep`,
    },
  ]);
}
