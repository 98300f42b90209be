import type { z } from 'zod';
import { EventValidationFailed, InvalidArgument } from '../errors/store-errors.js';
import { deepFreeze } from '../events/deep-freeze.js';
import type { AnyEventDefinition } from '../events/define-event.js';
import { parseEventData } from '../events/event-payload.js';
import type { NewEvent, RecordedEvent } from '../events/event-types.js';
import { validatedEvent } from '../events/validated-event.js';
import { toIssues } from '../events/zod-issues.js';
import { MissingApplyHandler } from './aggregate-errors.js';
import { type ResolvedAggregateDefinition, resolveAggregateDefinition } from './aggregate-metadata.js';

/** @internal What the repository may do to an aggregate and nobody else may. */
export interface AggregateInternals {
  applyRecorded(aggregate: AggregateRoot, event: RecordedEvent): void;
  restore(aggregate: AggregateRoot, state: unknown, revision: bigint): void;
  uncommitted(aggregate: AggregateRoot): readonly NewEvent[];
  markCommitted(aggregate: AggregateRoot, revision: bigint): void;
  markHistorical(aggregate: AggregateRoot): void;
  isHistorical(aggregate: AggregateRoot): boolean;
}

/** @internal Filled in by the class's static block, which alone can reach the `#private` state. */
export const aggregateInternals = {} as AggregateInternals;

/**
 * Base class of event-sourced aggregates. A subclass keeps its state in ordinary fields, decides in
 * its methods (throwing domain errors), and changes state only through {@link AggregateRoot.raise}
 * and `@Apply` handlers, so that replaying the stored events rebuilds exactly the same state.
 *
 * Construct one with its id (`new BankAccount('acc-1')`) to start a new stream; load existing ones
 * with a `Repository`.
 *
 * @example
 * ```ts
 * @Aggregate('BankAccount')
 * export class BankAccount extends AggregateRoot {
 *   balance = 0;
 *   deposit(amount: number) { this.raise(MoneyDeposited, { accountId: this.id, amount }); }
 *   @Apply(MoneyDeposited) private onDeposited(e: Deposited) { this.balance += e.amount; }
 * }
 * ```
 */
export abstract class AggregateRoot {
  readonly #id: string;
  #revision: bigint | 'no_stream' = 'no_stream';
  #uncommitted: NewEvent[] = [];
  #historical = false;

  static {
    Object.assign(aggregateInternals, {
      applyRecorded(aggregate: AggregateRoot, event: RecordedEvent) {
        aggregate.#apply(event.type, event.data, event);
        aggregate.#revision = event.revision;
      },
      restore(aggregate: AggregateRoot, state: unknown, revision: bigint) {
        aggregate.fromSnapshot(state);
        aggregate.#revision = revision;
      },
      uncommitted: (aggregate: AggregateRoot) => aggregate.#uncommitted,
      markCommitted(aggregate: AggregateRoot, revision: bigint) {
        aggregate.#uncommitted = [];
        aggregate.#revision = revision;
      },
      markHistorical(aggregate: AggregateRoot) {
        aggregate.#historical = true;
      },
      isHistorical: (aggregate: AggregateRoot) => aggregate.#historical,
    } satisfies AggregateInternals);
  }

  /** @param id The aggregate's id, unique within its type (the stream id is derived from it). */
  constructor(id: string) {
    if (typeof id !== 'string' || id.length === 0) {
      throw new InvalidArgument(
        `${new.target.name} expects a non-empty string id, found ${JSON.stringify(id)}.`,
      );
    }
    this.#id = id;
  }

  /** The aggregate's id. */
  get id(): string {
    return this.#id;
  }

  /** The type name from `@Aggregate`. */
  get aggregateType(): string {
    return this.#definition().type;
  }

  /**
   * The revision of the last stored event this instance reflects, or `'no_stream'` for an aggregate
   * that has never been saved. Saving uses it as the expected revision, so a concurrent change to the
   * same aggregate fails with `ConcurrencyConflict` instead of being overwritten.
   */
  get revision(): bigint | 'no_stream' {
    return this.#revision;
  }

  /** The events raised since the aggregate was loaded or last saved, oldest first. */
  get uncommittedEvents(): readonly NewEvent[] {
    return [...this.#uncommitted];
  }

  /**
   * Records a new event: validates `data` with the event's zod schema (throws `EventValidationFailed`,
   * nothing changes), applies it through the `@Apply` handler for its type (throws
   * `MissingApplyHandler` when there is none) and keeps it as uncommitted until the repository saves
   * the aggregate. Call it only after every check of the command has passed. `data` is the schema's
   * input or, for a schema with codecs (a Date field), its output: the state reached here is the state
   * a reload reaches.
   */
  protected raise<D extends AnyEventDefinition>(
    event: D,
    data: z.input<D['schema']> | z.output<D['schema']>,
  ): void {
    const parsed = parseEventData(event, data);
    if (!parsed.success) throw new EventValidationFailed(event.type, undefined, toIssues(parsed.error));
    const frozen = deepFreeze(parsed.data);
    this.#apply(event.type, frozen, undefined);
    // Validated here; the store does not parse it again when it knows the same definition.
    this.#uncommitted.push(validatedEvent(event, frozen));
  }

  /**
   * The state a snapshot stores. Default: a structured clone of the instance's own enumerable
   * fields (the `#private` bookkeeping of this base class is not included). Override it, with
   * {@link AggregateRoot.fromSnapshot}, when state holds class instances or is cheaper to store in
   * another form; a durable snapshot store needs JSON-compatible state.
   */
  toSnapshot(): unknown {
    return structuredClone({ ...this });
  }

  /** Restores the state returned by {@link AggregateRoot.toSnapshot} onto a fresh instance. */
  fromSnapshot(state: unknown): void {
    if (typeof state !== 'object' || state === null) {
      throw new InvalidArgument(
        `${this.constructor.name}.fromSnapshot expects an object, found ${JSON.stringify(state)}.`,
      );
    }
    Object.assign(this, structuredClone(state));
  }

  #definition(): ResolvedAggregateDefinition {
    return resolveAggregateDefinition(this.constructor);
  }

  #apply(type: string, data: unknown, recorded: RecordedEvent | undefined): void {
    const definition = this.#definition();
    const entry = definition.handlers.get(type);
    if (entry === undefined) {
      throw new MissingApplyHandler(definition.type, type, [...definition.handlers.keys()]);
    }
    (this as unknown as Record<string | symbol, (d: unknown, e?: RecordedEvent) => unknown>)[entry.method]!(
      data,
      recorded,
    );
  }
}
