import { isAnnalsError } from '@annals/core';
import { StoreUnavailable } from '@annals/postgres';
import { EXIT_CODES, type ExitCode } from './exit-codes.js';

/**
 * A command's outcome other than success that is not an error: a check that found problems, or a
 * stop on Ctrl-C. Its message has been printed already; only the exit code is left to set.
 */
export class CommandExit extends Error {
  readonly exitCode: ExitCode;
  constructor(exitCode: ExitCode) {
    super(`exit ${exitCode}`);
    this.exitCode = exitCode;
  }
}

/** Node's codes for a connection that could not be made or was lost. */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'EAI_AGAIN',
]);

/**
 * `error` as the Annals error it amounts to: a lost or refused connection that reached the command
 * untyped (from one of its own queries) is `StoreUnavailable`; anything else is returned as it is.
 */
export function asAnnalsError(error: unknown): unknown {
  if (isAnnalsError(error)) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : '';
  const lost =
    (typeof code === 'string' &&
      (CONNECTION_CODES.has(code) ||
        code.startsWith('08') ||
        ['57P01', '57P02', '57P03', '53300'].includes(code))) ||
    /Connection terminated|connection.*(closed|ended) unexpectedly|terminating connection/i.test(message);
  return lost ? new StoreUnavailable('a query of the annals command', error) : error;
}

/** The exit code for an error thrown by a command (see {@link EXIT_CODES}). */
export function exitCodeOf(thrown: unknown): ExitCode {
  if (thrown instanceof CommandExit) return thrown.exitCode;
  const error = asAnnalsError(thrown);
  if (isAnnalsError(error)) {
    switch (error.code) {
      case 'INVALID_ARGUMENT':
        return EXIT_CODES.usage;
      case 'STORE_UNAVAILABLE':
        return EXIT_CODES.unavailable;
      case 'SCHEMA_NOT_MIGRATED':
        return EXIT_CODES.notMigrated;
      case 'CHAIN_BROKEN':
        return EXIT_CODES.checkFailed;
      default:
        return EXIT_CODES.failed;
    }
  }
  return EXIT_CODES.failed;
}

/** An error as one line: `annals: CODE: message`, with `ERROR` when it carries no Annals code. */
export function errorLine(thrown: unknown): string {
  const error = asAnnalsError(thrown);
  const code = isAnnalsError(error) ? error.code : 'ERROR';
  const message = error instanceof Error ? error.message : String(error);
  return `annals: ${code}: ${message.replace(/\s*\n\s*/g, ' ')}`;
}
