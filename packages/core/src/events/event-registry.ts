import type { z } from 'zod';
import {
  EventValidationFailed,
  InvalidArgument,
  UnknownEventType,
  type ValidationIssue,
} from '../errors/store-errors.js';
import { MAX_STREAM_ID_BYTES } from '../store/limits.js';
import { type Upcaster, UpcasterRegistry } from '../upcasting/upcaster-registry.js';
import { UpcastFailed } from '../upcasting/upcasting-errors.js';
import { deepFreeze } from './deep-freeze.js';
import type { AnyEventDefinition } from './define-event.js';
import { encodeEventData, exactJsonText } from './event-payload.js';
import type { EventMetadata, NewEvent, RecordedEvent, StoredEvent } from './event-types.js';
import { type SchemaMode, schemaMode } from './schema-mode.js';
import { isUuid, uuidv7 } from './uuid.js';
import { FrozenPreparedEvent, isFrozenJson, validatedBy } from './validated-event.js';
import { describeLoneSurrogate, loneSurrogate, utf8Length } from './well-formed-text.js';

/** Options of an {@link EventRegistry}; every store accepts the same keys. */
export interface EventRegistryOptions {
  /** The event definitions this application knows. Defined types are validated on append and after upcasting. */
  readonly events?: readonly AnyEventDefinition[];
  /**
   * Upcasters applied on every read. Checked against `events` when the registry is created (a broken
   * chain throws `UpcasterChainInvalid` then), and sealed: later `register` calls are refused. Without
   * upcasters, a definition past version 1 is a missing step, so the check runs in any case.
   */
  readonly upcasters?: UpcasterRegistry;
  /**
   * Refuse event types that have no definition (`UnknownEventType`), so a typo such as `ItmeAdded`
   * never enters the log. Default: true when `events` holds at least one definition, false when there
   * are none (any type is then stored as plain JSON). `strict: false` stores undefined types as plain
   * JSON next to the defined ones, which are validated in any case.
   */
  readonly strict?: boolean;
}

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
}

/** Options for `EventRegistry.prepare`. */
export interface PrepareOptions {
  /** Allow events at an older `schemaVersion` (imports and test histories). Their data must upcast to a valid current event. */
  readonly import?: boolean;
}

/** Options for `EventRegistry.decode`. */
export interface DecodeOptions {
  /**
   * The row, its `recordedAt`, data and metadata were built for this read alone and the caller keeps
   * no reference to them: they are frozen in place instead of copied. Default false.
   */
  readonly owned?: boolean;
}

/** What a stored (type, version) is read as: the type and version after upcasting. */
export interface UpcastTarget {
  readonly type: string;
  readonly version: number;
}

/**
 * How events stored at one (type, version) are decoded, resolved once and cached: the steps to run,
 * the definition that validates the result, or why such events cannot be read.
 */
interface DecodePlan {
  readonly steps: readonly Upcaster[];
  readonly target: UpcastTarget;
  /** The definition of the target type (validates the result of the steps). */
  readonly definition: AnyEventDefinition | undefined;
  /** Set when events stored at this (type, version) cannot be read; the UpcastFailed reason. */
  readonly failure: string | undefined;
  /** How the target definition's data is written and read (see {@link SchemaMode}). */
  readonly mode: SchemaMode | undefined;
}

/**
 * The event definitions and upcasters a store knows, and the one place where events are validated
 * on the way in and upcast, validated and frozen on the way out. Every adapter goes through it, so
 * every adapter validates and upcasts the same way.
 *
 * Creating a registry checks the upcaster chains against the definitions ({@link UpcasterChainInvalid}).
 * Each stored (type, version) is resolved to a plan once; reading an event at the current version
 * costs a shallow copy and a freeze (it was validated on append), reading an older one costs the
 * steps' results and one validated payload.
 */
export class EventRegistry {
  /** Whether undefined types are refused (see {@link EventRegistryOptions.strict}). */
  readonly strict: boolean;
  readonly #definitions = new Map<string, AnyEventDefinition>();
  readonly #upcasters: UpcasterRegistry;
  /** Decode plans by stored type, then stored version. */
  readonly #plans = new Map<string, Map<number, DecodePlan>>();
  /** The plan asked for last, and its key. */
  #lastType: string | undefined = undefined;
  #lastVersion = 0;
  #lastPlan: DecodePlan | undefined = undefined;

  constructor(options: EventRegistryOptions = {}) {
    for (const def of options.events ?? []) {
      const existing = this.#definitions.get(def.type);
      if (existing !== undefined && existing !== def) {
        throw new InvalidArgument(
          `Event type ${def.type} is defined twice; each type needs exactly one definition.`,
        );
      }
      this.#definitions.set(def.type, def);
    }
    this.strict = options.strict ?? this.#definitions.size > 0;
    const upcasters = options.upcasters ?? new UpcasterRegistry();
    // Without upcasters nothing claims to read old versions; such events fail on read (UpcastFailed).
    upcasters.check(this.#definitions.values(), { requireChains: options.upcasters !== undefined });
    this.#upcasters = upcasters.seal();
  }

  /**
   * Builds a registry from store options, or returns the registry given as `events`. A registry
   * brings its own upcasters: giving other `upcasters` next to it is refused (`InvalidArgument`)
   * rather than silently ignored.
   */
  static from(options: EventRegistryOptions | { readonly events: EventRegistry } = {}): EventRegistry {
    if (options.events instanceof EventRegistry) {
      const upcasters = (options as { readonly upcasters?: unknown }).upcasters;
      if (upcasters !== undefined && upcasters !== options.events.upcasters) {
        throw new InvalidArgument(
          'The options give both an EventRegistry (as events) and upcasters; a registry brings its own upcasters, so pass them to the EventRegistry instead.',
        );
      }
      return options.events;
    }
    return new EventRegistry(options as EventRegistryOptions);
  }

  /** The current version of a defined type, or undefined. */
  currentVersion(type: string): number | undefined {
    return this.#definitions.get(type)?.version;
  }

  /** The definition of `type`, if any. */
  definition(type: string): AnyEventDefinition | undefined {
    return this.#definitions.get(type);
  }

  /** Every definition, in registration order. */
  definitions(): readonly AnyEventDefinition[] {
    return [...this.#definitions.values()];
  }

  /** The upcasters this registry applies on read (checked and sealed). */
  get upcasters(): UpcasterRegistry {
    return this.#upcasters;
  }

  /**
   * What events stored at (type, version) are read as, after upcasting: for a rename, another type.
   * Resolved once per (type, version) and cached. Adapters use it to filter by type without decoding.
   */
  upcastTarget(type: string, version: number): UpcastTarget {
    return this.#planFor(type, version).target;
  }

  /**
   * The stored types whose events may be read as one of `types`: the types themselves and every type
   * renamed into one of them. Adapters push a type filter down to storage with it; since a rename may
   * apply to some versions only, they still keep only the events whose decoded type is in `types`.
   *
   * @example
   * ```ts
   * // FundsAdded v1 is renamed to MoneyDeposited:
   * registry.storedTypesFor(['MoneyDeposited']); // ['MoneyDeposited', 'FundsAdded']
   * ```
   */
  storedTypesFor(types: readonly string[]): string[] {
    const wanted = new Set(types);
    const stored = new Set(types);
    for (const step of this.#upcasters.list()) {
      if (!stored.has(step.type) && wanted.has(this.upcastTarget(step.type, step.from).type)) {
        stored.add(step.type);
      }
    }
    return [...stored];
  }

  /**
   * Validates a batch for `streamId` and assigns ids. Throws on the first bad event, so an adapter
   * that calls this before writing never writes part of a batch.
   */
  prepare(streamId: string, events: readonly NewEvent[], options: PrepareOptions = {}): PreparedEvent[] {
    assertStreamId(streamId);
    if (!Array.isArray(events)) {
      throw new InvalidArgument(`append to ${streamId} expects an array of events, found ${typeof events}.`);
    }
    const ids = new Set<string>();
    return events.map((event, index) => {
      const prepared = this.#prepareOne(streamId, event, index, options);
      if (ids.has(prepared.id)) {
        throw new InvalidArgument(`The batch for stream ${streamId} contains event id ${prepared.id} twice.`);
      }
      ids.add(prepared.id);
      return prepared;
    });
  }

  #prepareOne(streamId: string, event: NewEvent, index: number, options: PrepareOptions): PreparedEvent {
    if (typeof event !== 'object' || event === null) {
      throw new InvalidArgument(
        `Event #${index} for stream ${streamId} must be an object, found ${String(event)}.`,
      );
    }
    const validated = validatedBy(event);
    if (validated !== undefined && validated === this.#definitions.get(validated.type)) {
      const prepared = this.#prepareValidated(streamId, event, validated);
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
    const definition = this.#definitions.get(type);
    const schemaVersion = declared ?? definition?.version ?? 1;
    const plan = this.#planFor(type, schemaVersion);
    if (plan.steps.length > 0 || plan.failure !== undefined) {
      const old = { id, type, schemaVersion, data: event.data, metadata, metadataJson };
      return this.#prepareOld(streamId, old, plan, options);
    }
    if (definition === undefined) {
      if (this.strict) throw new UnknownEventType(type, [...this.#definitions.keys()]);
      const dataJson = exactJsonText(type, streamId, 'data', event.data);
      return { id, type, schemaVersion, data: event.data, metadata, dataJson, metadataJson };
    }
    const encoded = encodeEventData(definition, plan.mode!, streamId, event.data);
    return { id, type, schemaVersion, data: encoded.data, metadata, dataJson: encoded.json, metadataJson };
  }

  /**
   * An event an aggregate raised (see `validatedEvent`): its generated id, its type and its frozen
   * JSON data were produced by `definition`, this registry's definition of the type, so they are not
   * checked or parsed again; its metadata is. Undefined sends the event down the ordinary path (which
   * refuses it when the type is not written at its current version, or reports bad metadata).
   */
  #prepareValidated(
    streamId: string,
    event: NewEvent,
    definition: AnyEventDefinition,
  ): PreparedEvent | undefined {
    const { id, type } = event;
    if (id === undefined || event.schemaVersion !== undefined || !isStorableText(type)) return undefined;
    const plan = this.#planFor(type, definition.version);
    // A schema with codecs stores the encoded form, not the output the aggregate holds.
    if (plan.steps.length > 0 || plan.failure !== undefined || plan.mode === 'codec') return undefined;
    const metadata = event.metadata ?? NO_METADATA;
    if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) return undefined;
    const metadataJson = isFrozenJson(metadata)
      ? undefined
      : exactJsonText(type, streamId, 'metadata', metadata);
    return new FrozenPreparedEvent(id, type, definition.version, event.data, metadata, metadataJson);
  }

  /**
   * An event at a version that is upcast on read (an older version, or a type renamed away): only an
   * import may write it, and it must upcast to a valid current event, or it could never be read.
   * The check decodes the JSON that will be stored, so it proves exactly what readers will get.
   */
  #prepareOld(
    streamId: string,
    event: Omit<PreparedEvent, 'dataJson'>,
    plan: DecodePlan,
    options: PrepareOptions,
  ): PreparedEvent {
    const { id, type, schemaVersion } = event;
    const current = `${plan.target.type} v${this.currentVersion(plan.target.type) ?? plan.target.version}`;
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
    this.decode({
      id,
      type,
      schemaVersion,
      streamId,
      revision: 0n,
      position: 0n,
      data: JSON.parse(dataJson),
      metadata: JSON.parse(metadataJson),
      recordedAt: new Date(0),
    });
    return { id, type, schemaVersion, data: event.data, metadata: event.metadata, dataJson, metadataJson };
  }

  /**
   * Turns a stored row into the {@link RecordedEvent} readers see: upcast to the current version and
   * validated by the current schema when it was stored at an older one, then deeply frozen. Events
   * stored at the current version are not validated again (they were on append), unless their schema
   * has codecs: their stored (encoded) data is then decoded (`z.decode`), so a Date field is a Date. Throws
   * {@link UpcastFailed} rather than return a bad read; the stored row itself is never changed (its
   * data and metadata are frozen before any upcaster sees them).
   *
   * With `{ owned: true }` the adapter hands over a row it built for this read alone (its own object,
   * `recordedAt` and parsed data and metadata, no reference kept): an event at the current version is
   * then that very object, frozen in place, instead of a frozen copy.
   */
  decode(row: StoredEvent, options?: DecodeOptions): RecordedEvent {
    const plan = this.#planFor(row.type, row.schemaVersion);
    const owned = options?.owned === true;
    if (plan.steps.length === 0) {
      if (plan.failure !== undefined) throw this.#upcastError(row, plan, { reason: plan.failure });
      if (plan.mode !== 'codec') {
        return freezeEvent(owned ? row : copyEvent(row, row.type, row.schemaVersion, row.data));
      }
    }
    const metadata = deepFreeze(row.metadata);
    // Upcasters see and return the stored (encoded) form; the schema then decodes the result.
    let data: unknown = deepFreeze(row.data);
    for (const step of plan.steps) {
      try {
        data = step.up(data, metadata);
      } catch (cause) {
        const message = cause instanceof Error ? cause.message : String(cause);
        throw this.#upcastError(
          row,
          plan,
          { reason: `the upcaster from ${step.type} v${step.from} threw: ${message}` },
          cause,
        );
      }
      if (isThenable(data)) {
        throw this.#upcastError(row, plan, {
          reason: `the upcaster from ${step.type} v${step.from} returned a Promise; upcasters must be synchronous`,
        });
      }
    }
    const result = plan.definition!.schema.safeParse(data);
    if (!result.success) throw this.#upcastError(row, plan, { issues: toIssues(result.error) });
    const event = copyEvent(row, plan.target.type, plan.target.version, result.data);
    if (owned) (event as { recordedAt: Date }).recordedAt = row.recordedAt;
    return freezeEvent(event);
  }

  #upcastError(
    stored: StoredEvent,
    plan: DecodePlan,
    why: { reason?: string; issues?: readonly ValidationIssue[] },
    cause?: unknown,
  ): UpcastFailed {
    return new UpcastFailed(
      {
        eventId: stored.id,
        streamId: stored.streamId,
        eventType: stored.type,
        fromVersion: stored.schemaVersion,
        toType: plan.target.type,
        toVersion: plan.target.version,
        definedVersion: plan.definition?.version,
        ...why,
      },
      cause === undefined ? undefined : { cause },
    );
  }

  /** The cached plan for (type, version); resolved on first use. */
  #planFor(type: string, version: number): DecodePlan {
    // Reads and appends mostly meet one (type, version) after another: the last plan answers first.
    if (this.#lastType === type && this.#lastVersion === version) return this.#lastPlan!;
    const plan = this.#cachedPlan(type, version);
    this.#lastType = type;
    this.#lastVersion = version;
    this.#lastPlan = plan;
    return plan;
  }

  #cachedPlan(type: string, version: number): DecodePlan {
    let byVersion = this.#plans.get(type);
    if (byVersion === undefined) this.#plans.set(type, (byVersion = new Map()));
    let plan = byVersion.get(version);
    if (plan === undefined) {
      plan = this.#resolvePlan(type, version);
      byVersion.set(version, plan);
    }
    return plan;
  }

  #resolvePlan(type: string, version: number): DecodePlan {
    const { steps, toType, toVersion } = this.#upcasters.resolve(type, version);
    const definition = this.#definitions.get(toType);
    const target: UpcastTarget = Object.freeze({ type: toType, version: toVersion });
    let failure: string | undefined;
    if (definition === undefined) {
      // Checked at start-up: a chain always ends at a definition. Plain JSON types have no steps.
      if (steps.length > 0) failure = `the chain ends at ${toType}, a type no event definition has`;
    } else if (toVersion > definition.version) {
      failure = `this application defines ${toType} only up to v${definition.version}, so v${toVersion} was written by a newer version of the application; deploy that version, or add the definition`;
    } else if (toVersion < definition.version) {
      failure = `no upcaster leads from ${toType} v${toVersion} to the current v${definition.version}`;
    }
    const mode = definition === undefined ? undefined : schemaMode(definition.schema);
    return { steps, target, definition, failure, mode };
  }
}

/**
 * A new event with the row's identity and position, its own copy of `recordedAt` (a frozen Date still
 * changes through setTime()), and the given type, version and data.
 */
function copyEvent(row: StoredEvent, type: string, schemaVersion: number, data: unknown): StoredEvent {
  return {
    id: row.id,
    type,
    schemaVersion,
    streamId: row.streamId,
    revision: row.revision,
    position: row.position,
    data,
    metadata: row.metadata,
    recordedAt: new Date(row.recordedAt.getTime()),
  };
}

/** Freezes an event and what it holds: its Date, data and metadata (the other fields are primitives). */
function freezeEvent(event: StoredEvent): RecordedEvent {
  Object.freeze(event);
  Object.freeze(event.recordedAt);
  deepFreeze(event.data);
  deepFreeze(event.metadata);
  return event;
}

const NO_METADATA: EventMetadata = Object.freeze({});

function isThenable(value: unknown): boolean {
  return (
    typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'
  );
}

/** Converts zod issues to {@link ValidationIssue}s. */
export function toIssues(error: z.ZodError): ValidationIssue[] {
  return error.issues.map((issue) => ({
    path: issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p)),
    message: issue.message,
    code: issue.code,
  }));
}

/**
 * Throws `InvalidArgument` unless `streamId` is a non-empty string that every store can keep apart
 * from every other: without the NUL character, well-formed UTF-16 (no lone surrogate, which a
 * database would store as U+FFFD) and at most {@link MAX_STREAM_ID_BYTES} bytes of UTF-8. Every store
 * checks stream ids with it, on writes and on reads.
 */
export function assertStreamId(streamId: unknown): asserts streamId is string {
  if (typeof streamId !== 'string' || streamId.length === 0) {
    throw new InvalidArgument(`A stream id must be a non-empty string, found ${JSON.stringify(streamId)}.`);
  }
  if (streamId.includes('\u0000')) {
    throw new InvalidArgument(
      `A stream id must not contain the NUL character (\\u0000); found ${quoteStart(streamId)}.`,
    );
  }
  // A UTF-16 code unit is at most 3 bytes of UTF-8: only a long id needs counting.
  if (streamId.length * 3 > MAX_STREAM_ID_BYTES) {
    const bytes = utf8Length(streamId);
    if (bytes > MAX_STREAM_ID_BYTES) {
      throw new InvalidArgument(
        `A stream id may be at most ${MAX_STREAM_ID_BYTES} bytes of UTF-8 (MAX_STREAM_ID_BYTES); found ${bytes} bytes in ${quoteStart(streamId)}.`,
      );
    }
  }
  const surrogate = loneSurrogate(streamId);
  if (surrogate !== undefined) {
    throw new InvalidArgument(
      `A stream id must be well-formed UTF-16 text, which stores keep exactly; found ${describeLoneSurrogate(surrogate)} of ${quoteStart(streamId)}.`,
    );
  }
}

/** True when `text` holds neither the NUL character nor a lone surrogate. */
function isStorableText(text: string): boolean {
  return !text.includes('\u0000') && loneSurrogate(text) === undefined;
}

/** `text` as JSON, cut after 60 characters so a message never repeats a huge value. */
function quoteStart(text: string): string {
  return text.length <= 60 ? JSON.stringify(text) : `${JSON.stringify(text.slice(0, 60))} (cut)`;
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
