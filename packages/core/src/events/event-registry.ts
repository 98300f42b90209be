import { InvalidArgument } from '../errors/store-errors.js';
import { SubjectForgottenEvent } from '../personal-data/forget.js';
import type { PersonalDataOptions } from '../personal-data/key-store.js';
import { personalFieldsOf } from '../personal-data/personal.js';
import { PersonalDataCodec } from '../personal-data/personal-data-codec.js';
import { UpcasterRegistry } from '../upcasting/upcaster-registry.js';
import { DecodePlans, type UpcastTarget } from './decode-plan.js';
import type { AnyEventDefinition } from './define-event.js';
import { type DecodeOptions, decodeEvent } from './event-decoding.js';
import {
  type PreparationContext,
  type PreparedEvent,
  type PrepareOptions,
  prepareEvents,
} from './event-preparation.js';
import type { NewEvent, RecordedEvent, StoredEvent } from './event-types.js';

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
  /**
   * Seal personal fields (declared with `personal()` in event schemas) under per-subject keys from
   * `keys`, and open them on every read. Without it, sealing or opening a personal field throws
   * `PersonalDataKeysMissing`. With it (or with personal fields), the registry knows `SubjectForgotten`.
   */
  readonly personalData?: PersonalDataOptions;
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
  readonly #plans: DecodePlans;
  readonly #preparation: PreparationContext;
  /** Seals personal fields on append and opens them on read (see `personal()`). */
  readonly personalData: PersonalDataCodec;

  constructor(options: EventRegistryOptions = {}) {
    const declared = (options.events ?? []).some((def) => personalFieldsOf(def.schema).length > 0);
    const personalEvents = options.personalData === undefined && !declared ? [] : [SubjectForgottenEvent];
    for (const def of [...(options.events ?? []), ...personalEvents]) {
      if (def === SubjectForgottenEvent && this.#definitions.has(def.type)) continue;
      const existing = this.#definitions.get(def.type);
      if (existing !== undefined && existing !== def) {
        throw new InvalidArgument(
          `Event type ${def.type} is defined twice; each type needs exactly one definition.`,
        );
      }
      this.#definitions.set(def.type, def);
    }
    this.strict = options.strict ?? this.#definitions.size > personalEvents.length;
    this.personalData = new PersonalDataCodec(this.#definitions.values(), options.personalData);
    const upcasters = options.upcasters ?? new UpcasterRegistry();
    // Without upcasters nothing claims to read old versions; such events fail on read (UpcastFailed).
    upcasters.check(this.#definitions.values(), { requireChains: options.upcasters !== undefined });
    this.#upcasters = upcasters.seal();
    this.#plans = new DecodePlans(this.#definitions, this.#upcasters);
    this.#preparation = { strict: this.strict, definitions: this.#definitions, plans: this.#plans };
  }

  /**
   * Builds a registry from store options, or returns the registry given as `events`. A registry
   * brings its own upcasters: giving other `upcasters` next to it is refused (`InvalidArgument`)
   * rather than silently ignored.
   */
  static from(options: EventRegistryOptions | { readonly events: EventRegistry } = {}): EventRegistry {
    if (options.events instanceof EventRegistry) {
      const upcasters = (options as { readonly upcasters?: unknown }).upcasters;
      if ((options as { readonly personalData?: unknown }).personalData !== undefined) {
        throw new InvalidArgument(
          'The options give both an EventRegistry (as events) and personalData; a registry brings its own key store, so pass personalData to the EventRegistry instead.',
        );
      }
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
    return this.#plans.get(type, version).target;
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
    return prepareEvents(this.#preparation, streamId, events, options);
  }

  /**
   * Turns a stored row into the {@link RecordedEvent} readers see: upcast to the current version and
   * validated by the current schema when it was stored at an older one, then deeply frozen. Events
   * stored at the current version are not validated again (they were on append), unless their schema
   * has codecs: their stored (encoded) data is then decoded (`z.decode`), so a Date field is a Date. Throws
   * `UpcastFailed` rather than return a bad read; the stored row itself is never changed (its
   * data and metadata are frozen before any upcaster sees them).
   *
   * With `{ owned: true }` the adapter hands over a row it built for this read alone (its own object,
   * `recordedAt` and parsed data and metadata, no reference kept): an event at the current version is
   * then that very object, frozen in place, instead of a frozen copy.
   */
  decode(row: StoredEvent, options?: DecodeOptions): RecordedEvent {
    return decodeEvent(row, this.#plans.get(row.type, row.schemaVersion), options);
  }
}
