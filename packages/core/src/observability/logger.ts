/**
 * Where Annals reports what it does: a logger with pino's shape, details first and the message
 * second (`logger.warn({ err }, 'message')`). A pino logger fits as it is; so does any object with
 * `warn` and `error` of that shape. `info`, `debug` and `child` are used when present.
 *
 * @example
 * ```ts
 * import pino from 'pino';
 * const runner = new ProjectionRunner({ store, projections, logger: pino() });
 * ```
 */
export interface Logger {
  /** Something failed that needs attention (a projection stopped, a callback subscription ended). */
  error(details: Readonly<Record<string, unknown>>, message: string): void;
  /** Something failed and is being retried or skipped (a retry, a dead letter, a lost lease). */
  warn(details: Readonly<Record<string, unknown>>, message: string): void;
  /** Normal operation worth a line (the `logging` middleware's successes). */
  info?(details: Readonly<Record<string, unknown>>, message: string): void;
  /** Detail for diagnosis. */
  debug?(details: Readonly<Record<string, unknown>>, message: string): void;
  /**
   * False when lines of `level` are dropped (pino's `isLevelEnabled`): callers then skip building
   * them. Without it, every line is built and handed to the logger.
   */
  isLevelEnabled?(level: string): boolean;
  /** A logger that adds `bindings` to every line (pino's `child`). */
  child?(bindings: Record<string, unknown>): Logger;
}

/**
 * The default logger: warnings and errors on the console (`console.warn` / `console.error`), prefixed
 * with `[annals]` and followed by the error they concern (`details.err`); `info` and `debug` are
 * dropped. Pass your own logger (or {@link silentLogger}) to send them elsewhere.
 */
export const consoleLogger: Logger = Object.freeze({
  warn: (details: Readonly<Record<string, unknown>>, message: string) =>
    console.warn(`[annals] ${message}`, details.err ?? ''),
  error: (details: Readonly<Record<string, unknown>>, message: string) =>
    console.error(`[annals] ${message}`, details.err ?? ''),
});

/** A logger that drops everything. */
export const silentLogger: Logger = Object.freeze({ warn() {}, error() {} });

/** `logger.child(bindings)` when the logger has `child`, else `logger` itself. */
export function childLogger(logger: Logger, bindings: Record<string, unknown>): Logger {
  return typeof logger.child === 'function' ? logger.child(bindings) : logger;
}
