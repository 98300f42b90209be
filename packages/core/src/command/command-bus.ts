import {
  type CommandContext,
  currentCommandContext,
  runInCommandContext,
} from '../context/command-context.js';
import { InvalidArgument } from '../errors/store-errors.js';
import { deepFreeze } from '../events/deep-freeze.js';
import { uuidv7 } from '../events/uuid.js';
import { toIssues } from '../events/zod-issues.js';
import { traceCommand } from '../observability/command-telemetry.js';
import { CommandValidationFailed, DuplicateHandler, HandlerNotFound } from './command-errors.js';
import { type CommandHandlerClass, type Handles, handledCommand } from './command-handler.js';
import {
  type AnyCommandDefinition,
  type CommandData,
  type CommandInput,
  type CommandResult,
  isCommandDefinition,
} from './define-command.js';

/** A handler the bus can call: an instance of a `@CommandHandler` class, or the class (resolved through a container). */
export type HandlerRegistration = Handles<any> | CommandHandlerClass<any>;

/** The part of a DI container the bus needs: tsyringe's `container` (or a child) fits. */
export interface HandlerResolver {
  resolve<T>(token: new (...args: any[]) => T): T;
}

/** What a middleware sees: the command context plus the command and its validated payload. */
export interface CommandExecution<C extends AnyCommandDefinition = AnyCommandDefinition>
  extends CommandContext {
  readonly command: C;
  readonly data: CommandData<C>;
  /**
   * True when the caller gave no `commandId` and the bus generated one: no one can send this command
   * again by its id, so `idempotency()` has nothing to remember of it.
   */
  readonly commandIdGenerated?: boolean;
}

/**
 * A step of the bus pipeline. Call `next()` to run the rest of the pipeline and the handler (calling
 * it again runs them again, which is how retries work) and return its result; throw to fail the
 * command. Validation and handler lookup happen before the pipeline.
 *
 * @example
 * ```ts
 * bus.use(async (execution, next) => {
 *   const started = Date.now();
 *   try { return await next(); } finally { metrics.timing(execution.commandType, Date.now() - started); }
 * });
 * ```
 */
export type CommandMiddleware = (
  execution: CommandExecution,
  next: () => Promise<unknown>,
) => Promise<unknown>;

/** Options of {@link CommandBus}. */
export interface CommandBusOptions {
  /** Handler instances, or `@CommandHandler` classes when `container` is given. Two for one command fail. */
  readonly handlers?: readonly HandlerRegistration[];
  /** Resolves handler classes (tsyringe: `container.resolve`), once per command execution. */
  readonly container?: HandlerResolver;
  /** Middleware, outermost first (the same as calling `use` in this order). */
  readonly middleware?: readonly CommandMiddleware[];
}

/** Options of {@link CommandBus.execute}. */
export interface ExecuteOptions {
  /** The command's id. Default: a new UUID v7. Give a stable one to make retries idempotent (see `idempotency()`). */
  readonly commandId?: string;
  /** Default: the correlation id of the command executing this one, else the command id. */
  readonly correlationId?: string;
  /** Free keys stamped on every event the command causes (user id, tenant, ...). */
  readonly metadata?: Readonly<Record<string, unknown>>;
}

interface Registration {
  readonly command: AnyCommandDefinition;
  readonly handler: HandlerRegistration;
  readonly name: string;
}

/**
 * Sends each command to its one handler: validates the payload with the command's zod schema
 * (`CommandValidationFailed`), finds the handler (`HandlerNotFound`), runs the middleware pipeline and
 * the handler inside a {@link CommandContext}, and returns the handler's result. Every event saved
 * through a `Repository` while the command runs carries its correlation id and the command id as
 * causation id. Errors reach the caller unchanged. With an OpenTelemetry SDK registered, each command
 * runs in a span and its duration is recorded (see docs/guides/observability.md).
 *
 * @example
 * ```ts
 * const bus = new CommandBus({ handlers: [new DepositHandler(accounts)] }).use(retryOnConcurrency());
 * await bus.execute(Deposit, { accountId: 'acc-1', amount: 100 }, { commandId, correlationId });
 * ```
 */
export class CommandBus {
  readonly #handlers = new Map<string, Registration>();
  /** Replaced (never changed) by `use`, so a command runs the pipeline it started with. */
  #middleware: readonly CommandMiddleware[] = [];
  readonly #container: HandlerResolver | undefined;

  constructor(options: CommandBusOptions = {}) {
    this.#container = options.container;
    for (const handler of options.handlers ?? []) this.register(handler);
    for (const middleware of options.middleware ?? []) this.use(middleware);
  }

  /**
   * Registers a handler: an instance of a `@CommandHandler` class, or the class itself when the bus
   * has a container. Throws {@link DuplicateHandler} when its command already has a handler.
   */
  register(handler: HandlerRegistration): this {
    const isClass = typeof handler === 'function';
    const name = isClass ? handler.name : ((handler as object | null)?.constructor?.name ?? String(handler));
    const command = handledCommand(handler);
    if (command === undefined) {
      throw new InvalidArgument(
        `${name} is not a command handler: decorate its class with @CommandHandler(TheCommand).`,
      );
    }
    if (isClass && this.#container === undefined) {
      throw new InvalidArgument(
        `${name} is a class and this bus has no container to resolve it; pass an instance (new ${name}(...)) or give the bus a container.`,
      );
    }
    if (!isClass && typeof (handler as Handles<any>).execute !== 'function') {
      throw new InvalidArgument(`${name} handles ${command.type} but has no execute method.`);
    }
    const existing = this.#handlers.get(command.type);
    if (existing !== undefined) throw new DuplicateHandler(command.type, existing.name, name);
    this.#handlers.set(command.type, { command, handler, name });
    return this;
  }

  /** Adds a middleware; the first added is the outermost. */
  use(middleware: CommandMiddleware): this {
    if (typeof middleware !== 'function') {
      throw new InvalidArgument(`bus.use expects a middleware function, found ${String(middleware)}.`);
    }
    this.#middleware = [...this.#middleware, middleware];
    return this;
  }

  /** True when a handler is registered for `command`. */
  handles(command: AnyCommandDefinition): boolean {
    return this.#handlers.has(command.type);
  }

  /**
   * Validates and executes a command and returns what its handler returns. Nothing runs when the
   * payload is invalid ({@link CommandValidationFailed}) or no handler exists ({@link HandlerNotFound}).
   */
  execute<C extends AnyCommandDefinition>(
    command: C,
    data: CommandInput<C>,
    options: ExecuteOptions = {},
  ): Promise<CommandResult<C>> {
    // Not an async function: a command costs as few promises as its middleware and handler make.
    // Every error still arrives as a rejection.
    try {
      if (!isCommandDefinition(command)) {
        throw new InvalidArgument(
          `bus.execute expects a command definition made by defineCommand, found ${String(command)}.`,
        );
      }
      const registration = this.#handlers.get(command.type);
      if (registration === undefined) throw new HandlerNotFound(command.type, [...this.#handlers.keys()]);
      const parsed = command.schema.safeParse(data);
      if (!parsed.success) throw new CommandValidationFailed(command.type, toIssues(parsed.error));
      const context = createContext(command.type, options);
      const payload = deepFreeze(parsed.data) as CommandData<C>;
      // Field by field rather than a spread of the context: one object of a fixed shape per command.
      const execution: CommandExecution = Object.freeze({
        commandId: context.commandId,
        commandType: context.commandType,
        correlationId: context.correlationId,
        causationId: context.causationId,
        metadata: context.metadata,
        command,
        data: payload,
        commandIdGenerated: options.commandId === undefined,
      });
      const run = new CommandRun(this.#middleware, execution, context, registration.handler, this.#container);
      return traceCommand(context, run, () => runInCommandContext(context, () => run.dispatch(0))) as Promise<
        CommandResult<C>
      >;
    } catch (error) {
      return Promise.reject(error);
    }
  }
}

/** One execution of a command: runs middleware `index` (or, past the last one, the handler). */
class CommandRun {
  /** How many times the handler ran (a retry runs it again). */
  runs = 0;

  constructor(
    readonly middleware: readonly CommandMiddleware[],
    readonly execution: CommandExecution,
    readonly context: CommandContext,
    readonly handler: HandlerRegistration,
    readonly container: HandlerResolver | undefined,
  ) {}

  dispatch(index: number): Promise<unknown> {
    try {
      const middleware = this.middleware[index];
      if (middleware !== undefined) {
        return Promise.resolve(middleware(this.execution, () => this.dispatch(index + 1)));
      }
      // Resolved for every run of the handler (a retry gets a fresh instance from the container).
      const { handler } = this;
      this.runs++;
      const instance = typeof handler === 'function' ? this.container!.resolve(handler) : handler;
      return Promise.resolve(instance.execute(this.execution.data, this.context));
    } catch (error) {
      return Promise.reject(error);
    }
  }
}

const NO_METADATA: Readonly<Record<string, unknown>> = Object.freeze({});

function createContext(commandType: string, options: ExecuteOptions): CommandContext {
  assertId(commandType, 'commandId', options.commandId);
  assertId(commandType, 'correlationId', options.correlationId);
  const metadata = options.metadata;
  if (
    metadata !== undefined &&
    (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata))
  ) {
    throw new InvalidArgument(
      `execute(${commandType}) option metadata must be an object, found ${JSON.stringify(metadata)}.`,
    );
  }
  const commandId = options.commandId ?? uuidv7();
  return Object.freeze({
    commandId,
    commandType,
    correlationId: options.correlationId ?? currentCommandContext()?.correlationId ?? commandId,
    causationId: commandId,
    metadata: metadata === undefined ? NO_METADATA : Object.freeze({ ...metadata }),
  });
}

function assertId(commandType: string, key: string, value: unknown): void {
  if (value !== undefined && (typeof value !== 'string' || value.length === 0)) {
    throw new InvalidArgument(
      `execute(${commandType}) option ${key} must be a non-empty string, found ${JSON.stringify(value)}.`,
    );
  }
}
