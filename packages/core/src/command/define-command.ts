import type { z } from 'zod';
import { InvalidArgument } from '../errors/store-errors.js';

/** Type-only key carrying a command's declared result type; it does not exist at run time. */
export declare const commandResult: unique symbol;

/**
 * The definition of one command: its type name and the zod schema its payload must satisfy. The bus
 * validates every payload with it before any handler runs.
 */
export interface CommandDefinition<
  TType extends string = string,
  TSchema extends z.ZodType = z.ZodType,
  TResult = unknown,
> {
  readonly type: TType;
  readonly schema: TSchema;
  /**
   * Declares (for the type checker only) what the command's handler returns, so `bus.execute` is
   * typed: `defineCommand('OpenAccount', schema).returns<{ accountId: string }>()`. Returns the same
   * definition.
   */
  returns<R>(): CommandDefinition<TType, TSchema, R>;
  readonly [commandResult]?: TResult;
}

/** Any command definition, whatever its type, schema and result. */
export type AnyCommandDefinition = CommandDefinition<string, z.ZodType, any>;

/** The validated payload a handler receives (`CommandData<typeof Deposit>`). */
export type CommandData<C extends AnyCommandDefinition> = z.output<C['schema']>;

/** The payload `bus.execute` accepts, before validation (defaults not yet applied). */
export type CommandInput<C extends AnyCommandDefinition> = z.input<C['schema']>;

/** What the command's handler returns, as declared with `.returns<R>()` (unknown otherwise). */
export type CommandResult<C extends AnyCommandDefinition> =
  C extends CommandDefinition<string, z.ZodType, infer R> ? R : unknown;

/**
 * Defines a command.
 *
 * @example
 * ```ts
 * export const Deposit = defineCommand('Deposit', z.object({ accountId: z.string(), amount: z.number().int().positive() }));
 * await bus.execute(Deposit, { accountId: 'acc-1', amount: 100 });
 * ```
 */
export function defineCommand<const TType extends string, TSchema extends z.ZodType>(
  type: TType,
  schema: TSchema,
): CommandDefinition<TType, TSchema, unknown> {
  if (typeof type !== 'string' || type.length === 0) {
    throw new InvalidArgument(`defineCommand expects a non-empty type name, found ${JSON.stringify(type)}.`);
  }
  if (typeof (schema as { safeParse?: unknown } | undefined)?.safeParse !== 'function') {
    throw new InvalidArgument(`defineCommand(${type}) expects a zod schema, found ${String(schema)}.`);
  }
  const definition: CommandDefinition<TType, TSchema, unknown> = Object.freeze({
    type,
    schema,
    returns<R>() {
      return definition as unknown as CommandDefinition<TType, TSchema, R>;
    },
  });
  return definition;
}

/** True when `value` looks like a command definition (made by {@link defineCommand}). */
export function isCommandDefinition(value: unknown): value is AnyCommandDefinition {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { type?: unknown }).type === 'string' &&
    typeof (value as { schema?: { safeParse?: unknown } }).schema?.safeParse === 'function'
  );
}
