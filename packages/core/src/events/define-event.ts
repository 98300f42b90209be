import type { z } from 'zod';
import { InvalidArgument } from '../errors/index.js';
import type { EventMetadata, NewEvent } from './event-types.js';

/**
 * The definition of one event type: its name, the version written today, and the zod schema its data
 * must satisfy. Call it (`.create(data)`) to build a {@link NewEvent}.
 */
export interface EventDefinition<TType extends string = string, TSchema extends z.ZodType = z.ZodType> {
  readonly type: TType;
  readonly version: number;
  readonly schema: TSchema;
  /**
   * Derives the tags of an event of this type from its data (see `defineEvent`); every append of the
   * type, an aggregate's included, stores them. Undefined when the type derives none.
   */
  tags?(data: z.output<TSchema>): readonly string[];
  /**
   * Builds a new event of this type; `data` is validated when it is appended. For a schema with codecs
   * `data` may also be the decoded form (a `Date` where the log holds an ISO string).
   */
  create(
    data: z.input<TSchema> | z.output<TSchema>,
    options?: { id?: string; metadata?: EventMetadata; tags?: readonly string[] },
  ): NewEvent<TType, z.output<TSchema>>;
}

/** Any event definition, whatever its type and schema. */
export type AnyEventDefinition = EventDefinition<string, z.ZodType>;

/** The data type of an event definition (`EventData<typeof MoneyDeposited>`). */
export type EventData<D extends AnyEventDefinition> = z.output<D['schema']>;

/** The type name of an event definition. */
export type EventType<D extends AnyEventDefinition> = D['type'];

/**
 * Defines an event type.
 *
 * @example
 * ```ts
 * export const MoneyDeposited = defineEvent('MoneyDeposited', {
 *   version: 2,
 *   schema: z.object({ accountId: z.string(), amount: z.object({ value: z.number().int(), currency: z.string() }) }),
 * });
 * type Deposited = EventData<typeof MoneyDeposited>;
 * // Tags for queries and append conditions, derived from the data on every append:
 * const StudentSubscribed = defineEvent('StudentSubscribed', {
 *   schema: z.object({ courseId: z.string(), studentId: z.string() }),
 *   tags: (d) => [`course:${d.courseId}`, `student:${d.studentId}`],
 * });
 * await store.append('account-1', [MoneyDeposited.create({ accountId: '1', amount: { value: 5, currency: 'EUR' } })]);
 * ```
 */
export function defineEvent<const TType extends string, TSchema extends z.ZodType>(
  type: TType,
  options: { version?: number; schema: TSchema; tags?: (data: z.output<TSchema>) => readonly string[] },
): EventDefinition<TType, TSchema> {
  if (typeof type !== 'string' || type.length === 0) {
    throw new InvalidArgument(`defineEvent expects a non-empty type name, found ${JSON.stringify(type)}.`);
  }
  const version = options.version ?? 1;
  if (!Number.isInteger(version) || version < 1) {
    throw new InvalidArgument(
      `defineEvent(${type}) expects version to be an integer >= 1, found ${version}.`,
    );
  }
  if (options.tags !== undefined && typeof options.tags !== 'function') {
    throw new InvalidArgument(
      `defineEvent(${type}) expects tags to be a function (data) => string[], found ${typeof options.tags}.`,
    );
  }
  return Object.freeze({
    type,
    version,
    schema: options.schema,
    ...(options.tags === undefined ? {} : { tags: options.tags }),
    create(
      data: z.input<TSchema> | z.output<TSchema>,
      opts?: { id?: string; metadata?: EventMetadata; tags?: readonly string[] },
    ) {
      return {
        type,
        data: data as z.output<TSchema>,
        ...(opts?.id === undefined ? {} : { id: opts.id }),
        ...(opts?.metadata === undefined ? {} : { metadata: opts.metadata }),
        ...(opts?.tags === undefined ? {} : { tags: opts.tags }),
      };
    },
  });
}
