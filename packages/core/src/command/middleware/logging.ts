import type { CommandMiddleware } from '../command-bus.js';

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
  return async (execution, next) => {
    const started = performance.now();
    const details = () => ({
      commandType: execution.commandType,
      commandId: execution.commandId,
      correlationId: execution.correlationId,
      durationMs: Math.round((performance.now() - started) * 100) / 100,
    });
    try {
      const result = await next();
      logger.info(`Command ${execution.commandType} succeeded`, details());
      return result;
    } catch (error) {
      logger.error(`Command ${execution.commandType} failed: ${(error as Error)?.message ?? String(error)}`, {
        ...details(),
        error,
      });
      throw error;
    }
  };
}
