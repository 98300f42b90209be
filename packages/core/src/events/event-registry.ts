import type { z } from 'zod';
import {
  EventValidationError,
  InvalidArgument,
  UnknownEventType,
  type ValidationIssue,
} from '../errors/store-errors.js';
import type { UpcasterRegistry, UpcastPlan } from '../upcasting/upcaster-registry.js';
import { UpcastError, UpcasterChainError } from '../upcasting/upcasting-errors.js';
import { deepFreeze } from './deep-freeze.js';
import type { AnyEventDefinition } from './define-event.js';
import type { EventMetadata, NewEvent, RecordedEvent, StoredEvent } from './event-types.js';
import { isUuid, uuidv7 } from './uuid.js';

/** Options of an {@link EventRegistry}; every store accepts the same keys. */
export interface EventRegistryOptions {
  /** The event definitions this application knows. Defined types are validated on append and after upcasting. */
  readonly events?: readonly AnyEventDefinition[];
  /** Upcasters applied on every read. Checked against `events` when the registry is created. */
  readonly upcasters?: UpcasterRegistry;
  /** Refuse event types that have no definition (`UnknownEventType`). Default false: stored as plain JSON. */
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

/** Options for {@link EventRegistry.prepare}. */
export interface PrepareOptions {
  /** Allow events at an older `schemaVersion` (imports and test histories). Their data must upcast to a valid current event. */
  readonly import?: boolean;
}

type Plan = UpcastPlan & { readonly definition: AnyEventDefinition | undefined };

const NO_STEPS: Plan = { steps: [], toType: '', toVersion: 0, definition: undefined };

/**
 * The event definitions and upcasters a store knows, and the one place where events are validated
 * on the way in and upcast, validated and frozen on the way out. Every adapter goes through it, so
 * every adapter validates and upcasts the same way.
 *
 * Creating a registry checks the upcaster chains against the definitions ({@link UpcasterChainError}).
 */
export class EventRegistry {
  readonly strict: boolean;
  readonly #definitions = new Map<string, AnyEventDefinition>();
  readonly #upcasters: UpcasterRegistry | undefined;
  readonly #plans = new Map<string, Plan>();

  constructor(options: EventRegistryOptions = {}) {
    this.strict = options.strict ?? false;
    for (const def of options.events ?? []) {
      const existing = this.#definitions.get(def.type);
      if (existing !== undefined && existing !== def) {
        throw new InvalidArgument(
          `Event type ${def.type} is defined twice; each type needs exactly one definition.`,
        );
      }
      this.#definitions.set(def.type, def);
    }
    this.#upcasters = options.upcasters;
    if (this.#upcasters !== undefined) {
      this.#upcasters.check(this);
      for (const def of this.#definitions.values()) {
        for (let v = 1; v < def.version; v++) {
          // Only versions that some upcaster starts from (or reaches) need a complete chain.
          const plan = this.#upcasters.resolve(def.type, v);
          if (plan.steps.length === 0 && !this.#reachedBySomeStep(def.type, v)) continue;
          if (plan.toType !== def.type && this.currentVersion(plan.toType) === undefined) {
            throw new UpcasterChainError(def.type, v, `it ends at ${plan.toType}, a type nobody defines.`);
          }
          if (plan.toVersion !== this.currentVersion(plan.toType)) {
            throw new UpcasterChainError(
              def.type,
              v,
              `it stops at ${plan.toType} v${plan.toVersion}; the step to v${this.currentVersion(plan.toType)} is missing.`,
            );
          }
        }
      }
    }
  }

  /** Builds a registry from store options, or returns the registry given as `events`. */
  static from(options: EventRegistryOptions | { readonly events: EventRegistry } = {}): EventRegistry {
    if (options.events instanceof EventRegistry) return options.events;
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
    const { type } = event;
    if (typeof type !== 'string' || type.length === 0) {
      throw new EventValidationError(String(type), streamId, [
        {
          path: ['type'],
          code: 'invalid_type',
          message: `Expected a non-empty string, found ${JSON.stringify(type)}`,
        },
      ]);
    }
    const id = event.id ?? uuidv7();
    if (!isUuid(id)) {
      throw new EventValidationError(type, streamId, [
        { path: ['id'], code: 'invalid_format', message: `Expected a UUID, found ${JSON.stringify(id)}` },
      ]);
    }
    const metadata = event.metadata ?? {};
    if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
      throw new EventValidationError(type, streamId, [
        {
          path: ['metadata'],
          code: 'invalid_type',
          message: `Expected an object, found ${JSON.stringify(metadata)}`,
        },
      ]);
    }
    const metadataJson = toJson(type, streamId, 'metadata', metadata);
    const definition = this.#definitions.get(type);
    if (definition === undefined) {
      if (this.strict) throw new UnknownEventType(type, [...this.#definitions.keys()]);
      const dataJson = toJson(type, streamId, 'data', event.data);
      return {
        id,
        type,
        schemaVersion: event.schemaVersion ?? 1,
        data: event.data,
        metadata,
        dataJson,
        metadataJson,
      };
    }
    const schemaVersion = event.schemaVersion ?? definition.version;
    if (schemaVersion !== definition.version) {
      if (
        !options.import ||
        !Number.isInteger(schemaVersion) ||
        schemaVersion < 1 ||
        schemaVersion > definition.version
      ) {
        throw new EventValidationError(type, streamId, [
          {
            path: ['schemaVersion'],
            code: 'invalid_version',
            message: options.import
              ? `Expected an integer from 1 to ${definition.version}, found ${schemaVersion}`
              : `Expected ${definition.version} (only imports may write older versions), found ${schemaVersion}`,
          },
        ]);
      }
      // An imported old event must upcast to a valid current event, or it could never be read.
      const dataJson = toJson(type, streamId, 'data', event.data);
      this.decode({
        id,
        type,
        schemaVersion,
        streamId,
        revision: 0n,
        position: 0n,
        data: event.data,
        metadata,
        recordedAt: new Date(0),
      });
      return { id, type, schemaVersion, data: event.data, metadata, dataJson, metadataJson };
    }
    const result = definition.schema.safeParse(event.data);
    if (!result.success) throw new EventValidationError(type, streamId, toIssues(result.error));
    const dataJson = toJson(type, streamId, 'data', result.data);
    return { id, type, schemaVersion, data: result.data, metadata, dataJson, metadataJson };
  }

  /**
   * Turns a stored row into the {@link RecordedEvent} readers see: upcast to the current version,
   * validated when an upcaster ran, and deeply frozen. Throws {@link UpcastError} rather than return a
   * bad read.
   */
  decode(stored: StoredEvent): RecordedEvent {
    const plan = this.#planFor(stored.type, stored.schemaVersion);
    if (plan.steps.length === 0) {
      if (plan.definition !== undefined && stored.schemaVersion !== plan.definition.version) {
        throw new UpcastError({
          eventId: stored.id,
          eventType: stored.type,
          fromVersion: stored.schemaVersion,
          toType: stored.type,
          toVersion: plan.definition.version,
          reason: `no upcaster is registered from v${stored.schemaVersion}`,
        });
      }
      return deepFreeze({ ...stored });
    }
    let data: unknown = stored.data;
    for (const step of plan.steps) {
      try {
        data = step.up(data, stored.metadata);
      } catch (cause) {
        throw new UpcastError(
          {
            eventId: stored.id,
            eventType: stored.type,
            fromVersion: stored.schemaVersion,
            toType: plan.toType,
            toVersion: plan.toVersion,
            reason: `the upcaster from ${step.type} v${step.from} threw: ${(cause as Error)?.message ?? String(cause)}`,
          },
          { cause },
        );
      }
    }
    const definition = plan.definition;
    if (definition === undefined || definition.version !== plan.toVersion) {
      throw new UpcastError({
        eventId: stored.id,
        eventType: stored.type,
        fromVersion: stored.schemaVersion,
        toType: plan.toType,
        toVersion: plan.toVersion,
        reason: 'the chain does not end at a current definition',
      });
    }
    const result = definition.schema.safeParse(data);
    if (!result.success) {
      throw new UpcastError({
        eventId: stored.id,
        eventType: stored.type,
        fromVersion: stored.schemaVersion,
        toType: plan.toType,
        toVersion: plan.toVersion,
        issues: toIssues(result.error),
      });
    }
    return deepFreeze({ ...stored, type: plan.toType, schemaVersion: plan.toVersion, data: result.data });
  }

  #planFor(type: string, version: number): Plan {
    const key = `${type}@${version}`;
    let plan = this.#plans.get(key);
    if (plan === undefined) {
      if (this.#upcasters === undefined) {
        plan = { ...NO_STEPS, toType: type, toVersion: version, definition: this.#definitions.get(type) };
      } else {
        const resolved = this.#upcasters.resolve(type, version);
        plan = { ...resolved, definition: this.#definitions.get(resolved.toType) };
      }
      this.#plans.set(key, plan);
    }
    return plan;
  }

  #reachedBySomeStep(type: string, version: number): boolean {
    return (this.#upcasters?.list() ?? []).some((u) => (u.toType ?? u.type) === type && u.to === version);
  }
}

/** Converts zod issues to {@link ValidationIssue}s. */
export function toIssues(error: z.ZodError): ValidationIssue[] {
  return error.issues.map((issue) => ({
    path: issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p)),
    message: issue.message,
    code: issue.code,
  }));
}

function assertStreamId(streamId: unknown): asserts streamId is string {
  if (typeof streamId !== 'string' || streamId.length === 0) {
    throw new InvalidArgument(`A stream id must be a non-empty string, found ${JSON.stringify(streamId)}.`);
  }
}

function toJson(type: string, streamId: string, field: string, value: unknown): string {
  try {
    const json = JSON.stringify(value);
    if (json === undefined) throw new Error(`${typeof value} is not JSON`);
    return json;
  } catch (cause) {
    throw new EventValidationError(type, streamId, [
      {
        path: [field],
        code: 'not_json',
        message: `Expected a JSON-serializable value: ${(cause as Error).message}`,
      },
    ]);
  }
}

export { assertStreamId };
