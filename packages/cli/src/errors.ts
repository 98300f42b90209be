import { isAnnalsError } from '@annals/core';
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

/** The exit code for an error thrown by a command (see {@link EXIT_CODES}). */
export function exitCodeOf(error: unknown): ExitCode {
  if (error instanceof CommandExit) return error.exitCode;
  if (isAnnalsError(error)) {
    switch (error.code) {
      case 'INVALID_ARGUMENT':
        return EXIT_CODES.usage;
      case 'STORE_UNAVAILABLE':
        return EXIT_CODES.unavailable;
      case 'SCHEMA_NOT_MIGRATED':
        return EXIT_CODES.notMigrated;
      default:
        return EXIT_CODES.failed;
    }
  }
  return EXIT_CODES.failed;
}

/** An error as one line: `annals: CODE: message`, with `ERROR` when it carries no Annals code. */
export function errorLine(error: unknown): string {
  const code = isAnnalsError(error) ? error.code : 'ERROR';
  const message = error instanceof Error ? error.message : String(error);
  return `annals: ${code}: ${message.replace(/\s*\n\s*/g, ' ')}`;
}
