import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What a handler (and every repository it saves through) knows about the command being executed.
 * The bus builds it; every event saved while the command runs carries its `correlationId` and
 * `causationId` (plus the free `metadata` keys), whether or not the handler passes them on.
 */
export interface CommandContext {
  /** The command's id: given to `execute` (make it stable to make retries idempotent) or generated (UUID v7). */
  readonly commandId: string;
  /** The command's type name. */
  readonly commandType: string;
  /**
   * Ties together everything one request caused. Given to `execute`, else inherited from the command
   * that is executing this one, else the command's own id.
   */
  readonly correlationId: string;
  /** What the events of this command record as their cause: the command id. */
  readonly causationId: string;
  /** Free keys (user id, tenant, ...) stamped on every event this command causes. */
  readonly metadata: Readonly<Record<string, unknown>>;
}

const storage = new AsyncLocalStorage<CommandContext>();

/**
 * The context of the command executing in this async call chain, or undefined outside of one.
 * Repositories read it to stamp correlation and causation ids, so a handler cannot forget them.
 */
export function currentCommandContext(): CommandContext | undefined {
  return storage.getStore();
}

/**
 * Runs `fn` with `context` as the current command context. The bus does this for every command;
 * call it yourself only to make code outside the bus (a script, a process manager) save events as
 * part of a command.
 */
export function runInCommandContext<R>(context: CommandContext, fn: () => R): R {
  return storage.run(context, fn);
}
