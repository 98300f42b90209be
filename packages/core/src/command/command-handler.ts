import 'reflect-metadata';
import { injectable } from 'tsyringe';
import { InvalidArgument } from '../errors/store-errors.js';
import { assertLegacyDecorator } from '../wiring/decorator-setup.js';
import type { CommandContext } from './command-context.js';
import {
  type AnyCommandDefinition,
  type CommandData,
  type CommandResult,
  isCommandDefinition,
} from './define-command.js';

const HANDLER_KEY = Symbol.for('annals:command-handler');

/**
 * What a command handler implements. `execute` receives the validated payload and the
 * {@link CommandContext}; what it returns is what `bus.execute` returns. Throw domain errors as they
 * are: the caller of `bus.execute` receives them unchanged.
 */
export interface Handles<C extends AnyCommandDefinition> {
  execute(command: CommandData<C>, context: CommandContext): CommandResult<C> | Promise<CommandResult<C>>;
}

/** A class whose instances handle command `C`. */
export type CommandHandlerClass<C extends AnyCommandDefinition = AnyCommandDefinition> = new (
  ...args: any[]
) => Handles<C>;

/**
 * Declares the class as the handler of `command` and makes it resolvable by tsyringe (it applies
 * `@injectable()`). Constructor parameters the framework provides use explicit tokens
 * (`@injectRepository(BankAccount)`, `@inject(AnnalsTokens.EventStore)`), so resolution does not
 * depend on emitted decorator metadata.
 *
 * @example
 * ```ts
 * @CommandHandler(Deposit)
 * export class DepositHandler implements Handles<typeof Deposit> {
 *   constructor(@injectRepository(BankAccount) private readonly accounts: Repository<BankAccount>) {}
 *   async execute(cmd: CommandData<typeof Deposit>) { ... }
 * }
 * ```
 */
export function CommandHandler<C extends AnyCommandDefinition>(command: C) {
  if (!isCommandDefinition(command)) {
    throw new InvalidArgument(
      `@CommandHandler expects a command definition made by defineCommand, found ${String(command)}.`,
    );
  }
  return <T extends CommandHandlerClass<C>>(target: T, context?: unknown): void => {
    assertLegacyDecorator(`@CommandHandler(${command.type})`, context);
    const existing: AnyCommandDefinition | undefined = Reflect.getOwnMetadata(HANDLER_KEY, target);
    if (existing !== undefined) {
      throw new InvalidArgument(
        `${target.name} is decorated twice with @CommandHandler (${existing.type} and ${command.type}); a handler class handles one command.`,
      );
    }
    Reflect.defineMetadata(HANDLER_KEY, command, target);
    injectable()(target);
  };
}

/** The command a `@CommandHandler` class (or an instance of one) handles, or undefined. */
export function handledCommand(handler: unknown): AnyCommandDefinition | undefined {
  const target =
    typeof handler === 'function'
      ? handler
      : typeof handler === 'object' && handler !== null
        ? handler.constructor
        : undefined;
  if (target === undefined) return undefined;
  return Reflect.getMetadata(HANDLER_KEY, target) as AnyCommandDefinition | undefined;
}
