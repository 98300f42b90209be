export {
  CommandBus,
  type CommandBusOptions,
  type CommandExecution,
  type CommandMiddleware,
  type ExecuteOptions,
  type HandlerRegistration,
  type HandlerResolver,
} from './command-bus.js';
export { CommandValidationFailed, DuplicateHandler, HandlerNotFound } from './command-errors.js';
export { CommandHandler, type CommandHandlerClass, type Handles } from './command-handler.js';
export {
  type AnyCommandDefinition,
  type CommandData,
  type CommandDefinition,
  type CommandInput,
  type CommandResult,
  defineCommand,
  isCommandDefinition,
} from './define-command.js';
export * from './middleware/index.js';
