import type { CommandExecution, CommandMiddleware } from '../command-bus.js';
import { promiseOf } from '../promise-of.js';

/** Any logger with `info` and `error` that take a message and details (`console` fits). */
export interface CommandLogger {
  info(message: string, details?: Record<string, unknown>): void;
  error(message: string, details?: Record<string, unknown>): void;
}

/**
 * Logs one line per command: `info` when it succeeds, `error` (with the error) when it fails, with the
 * command id, correlation id and duration. The error still reaches the caller.
 *
 * @example
 * ```ts
 * bus.use(logging(console));
 * ```
 */
export function logging(logger: CommandLogger): CommandMiddleware {
  return (execution, next) => {
    const started = performance.now();
    // `then` rather than `await`: one promise per command instead of two.
    return promiseOf(next).then(
      (result) => {
        try {
          logger.info(`Command ${execution.commandType} succeeded`, details(execution, started));
        } catch (error) {
          failed(logger, execution, started, error);
        }
        return result;
      },
      (error: unknown) => failed(logger, execution, started, error),
    );
  };
}

function details(execution: CommandExecution, started: number): Record<string, unknown> {
  return {
    commandType: execution.commandType,
    commandId: execution.commandId,
    correlationId: execution.correlationId,
    durationMs: Math.round((performance.now() - started) * 100) / 100,
  };
}

function failed(logger: CommandLogger, execution: CommandExecution, started: number, error: unknown): never {
  logger.error(`Command ${execution.commandType} failed: ${(error as Error)?.message ?? String(error)}`, {
    ...details(execution, started),
    error,
  });
  throw error;
}
