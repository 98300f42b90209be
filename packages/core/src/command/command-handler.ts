import type { CommandContext } from '../context/command-context.js';
import { defineMetadata, inheritedMetadata, ownMetadata } from '../decorators/class-metadata.js';
import { assertLegacyDecorator } from '../decorators/decorator-setup.js';
import { InvalidArgument } from '../errors/store-errors.js';
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
 * Declares the class as the handler of `command`. Register an instance with a `CommandBus`, or the
 * class with `registerAnnals` (`@annals/core/tsyringe`), which makes it resolvable by tsyringe; there,
 * constructor parameters the framework provides use explicit tokens (`@InjectRepository(BankAccount)`,
 * `@inject(AnnalsTokens.EventStore)`), so resolution does not depend on emitted decorator metadata.
 *
 * @example
 * ```ts
 * @CommandHandler(Deposit)
 * export class DepositHandler implements Handles<typeof Deposit> {
 *   constructor(@InjectRepository(BankAccount) private readonly accounts: Repository<BankAccount>) {}
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
    const existing = ownMetadata<AnyCommandDefinition>(target, HANDLER_KEY);
    if (existing !== undefined) {
      throw new InvalidArgument(
        `${target.name} is decorated twice with @CommandHandler (${existing.type} and ${command.type}); a handler class handles one command.`,
      );
    }
    defineMetadata(target, HANDLER_KEY, command);
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
  return inheritedMetadata<AnyCommandDefinition>(target, HANDLER_KEY);
}
