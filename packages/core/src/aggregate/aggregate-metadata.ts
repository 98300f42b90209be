import { defineMetadata, ownMetadata } from '../decorators/class-metadata.js';
import { assertLegacyDecorator } from '../decorators/decorator-setup.js';
import { InvalidArgument } from '../errors/store-errors.js';
import type { AnyEventDefinition, EventData } from '../events/define-event.js';
import type { RecordedEvent } from '../events/event-types.js';
import { AggregateDefinitionInvalid } from './aggregate-errors.js';

const AGGREGATE_KEY = Symbol.for('annals:aggregate');
const APPLY_KEY = Symbol.for('annals:apply');

/** Options of {@link Aggregate}. */
export interface AggregateOptions {
  /**
   * The shape version of this aggregate's snapshots. Raise it whenever the fields a snapshot holds
   * change meaning or shape: snapshots taken at another version are ignored (the aggregate is rebuilt
   * from its events and a new snapshot is taken), never misread. Default 1.
   */
  readonly snapshotVersion?: number;
}

/** What Annals knows of an aggregate class, read from its decorators. */
export interface AggregateDefinition {
  /** The aggregate type name given to `@Aggregate`; the default stream id is `${type}-${id}`. */
  readonly type: string;
  /** See {@link AggregateOptions.snapshotVersion}. */
  readonly snapshotVersion: number;
  /** The event definitions the aggregate has an `@Apply` handler for, base class handlers included. */
  readonly events: readonly AnyEventDefinition[];
}

/** The signature an `@Apply` handler may have: the event data, then the stored event when loading. */
export type ApplyHandler<D extends AnyEventDefinition> = (
  data: EventData<D>,
  event: RecordedEvent<D['type'], EventData<D>> | undefined,
) => unknown;

interface ApplyEntry {
  readonly event: AnyEventDefinition;
  readonly method: string | symbol;
}

/** @internal The definition plus the handler table, cached per class. */
export interface ResolvedAggregateDefinition extends AggregateDefinition {
  readonly handlers: ReadonlyMap<string, ApplyEntry>;
}

/**
 * Names an aggregate type and makes the class loadable by a `Repository`. The type name is part of
 * the stored data (stream ids, snapshots): do not change it once events exist.
 *
 * @example
 * ```ts
 * @Aggregate('BankAccount', { snapshotVersion: 2 })
 * export class BankAccount extends AggregateRoot { ... }
 * ```
 */
export function Aggregate(type: string, options: AggregateOptions = {}) {
  if (typeof type !== 'string' || type.length === 0) {
    throw new InvalidArgument(`@Aggregate expects a non-empty type name, found ${JSON.stringify(type)}.`);
  }
  const snapshotVersion = options.snapshotVersion ?? 1;
  if (!Number.isSafeInteger(snapshotVersion) || snapshotVersion < 1) {
    throw new AggregateDefinitionInvalid(
      `@Aggregate('${type}') expects snapshotVersion to be an integer >= 1, found ${String(snapshotVersion)}.`,
    );
  }
  return (target: Function, context?: unknown): void => {
    assertLegacyDecorator(`@Aggregate('${type}')`, context);
    defineMetadata(target, AGGREGATE_KEY, Object.freeze({ type, snapshotVersion }));
  };
}

/**
 * Marks a method as the state change for one event type. It runs when the aggregate raises the event
 * and whenever the event is loaded from the stream, so it must be a pure state change: no checks that
 * can fail, no I/O, no clock. It receives the event data (already validated and frozen) and, when the
 * event is loaded from the store, the {@link RecordedEvent} as second argument (`undefined` while
 * raising: the event is not stored yet).
 *
 * @example
 * ```ts
 * @Apply(MoneyDeposited)
 * private onDeposited(e: Deposited) { this.balance += e.amount; }
 * ```
 */
export function Apply<D extends AnyEventDefinition>(event: D) {
  if (typeof event !== 'object' || event === null || typeof event.type !== 'string') {
    throw new InvalidArgument(
      `@Apply expects an event definition made by defineEvent, found ${String(event)}.`,
    );
  }
  return <M extends ApplyHandler<D>>(
    target: object,
    method: string | symbol,
    _descriptor: TypedPropertyDescriptor<M>,
  ): void => {
    assertLegacyDecorator(`@Apply(${event.type})`, method);
    const own = ownMetadata<Map<string, ApplyEntry>>(target, APPLY_KEY) ?? new Map<string, ApplyEntry>();
    const existing = own.get(event.type);
    if (existing !== undefined) {
      throw new AggregateDefinitionInvalid(
        `${target.constructor.name} has two @Apply handlers for ${event.type}: ${String(existing.method)} and ${String(method)}.`,
      );
    }
    own.set(event.type, { event, method });
    defineMetadata(target, APPLY_KEY, own);
  };
}

const cache = new WeakMap<Function, ResolvedAggregateDefinition>();

/** @internal Reads and caches the definition of an aggregate class; throws when it is not decorated. */
export function resolveAggregateDefinition(aggregate: Function): ResolvedAggregateDefinition {
  const cached = cache.get(aggregate);
  if (cached !== undefined) return cached;
  if (typeof aggregate !== 'function') {
    throw new InvalidArgument(`Expected an aggregate class, found ${String(aggregate)}.`);
  }
  const meta = ownMetadata<{ type: string; snapshotVersion: number }>(aggregate, AGGREGATE_KEY);
  if (meta === undefined) {
    throw new AggregateDefinitionInvalid(
      `${aggregate.name || 'The class'} has no @Aggregate('<type>') decorator; decorate the aggregate class to name its type.`,
    );
  }
  const prototypes: object[] = [];
  for (let p = aggregate.prototype; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    prototypes.unshift(p);
  }
  const handlers = new Map<string, ApplyEntry>();
  for (const proto of prototypes) {
    const own = ownMetadata<Map<string, ApplyEntry>>(proto, APPLY_KEY);
    for (const [type, entry] of own ?? []) handlers.set(type, entry);
  }
  const definition: ResolvedAggregateDefinition = Object.freeze({
    type: meta.type,
    snapshotVersion: meta.snapshotVersion,
    events: Object.freeze([...handlers.values()].map((h) => h.event)),
    handlers,
  });
  cache.set(aggregate, definition);
  return definition;
}

/**
 * The definition of an aggregate class: its type, snapshot version and the events it applies.
 * Throws {@link AggregateDefinitionInvalid} when the class has no `@Aggregate` decorator.
 */
export function aggregateDefinition(aggregate: Function): AggregateDefinition {
  const { type, snapshotVersion, events } = resolveAggregateDefinition(aggregate);
  return { type, snapshotVersion, events };
}
