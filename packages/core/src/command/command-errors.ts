import { AnnalsError } from '../errors/annals-error.js';
import { formatIssues, type ValidationIssue } from '../errors/store-errors.js';

/** A command payload failed its schema. No handler ran; `issues` lists every problem with its path. */
export class CommandValidationFailed extends AnnalsError {
  readonly commandType: string;
  readonly issues: readonly ValidationIssue[];

  constructor(commandType: string, issues: readonly ValidationIssue[]) {
    super('COMMAND_VALIDATION_FAILED', `Command ${commandType} is invalid: ${formatIssues(issues)}.`);
    this.commandType = commandType;
    this.issues = issues;
  }
}

/** The bus has no handler for the command executed. */
export class HandlerNotFound extends AnnalsError {
  readonly commandType: string;

  constructor(commandType: string, known: readonly string[]) {
    super(
      'HANDLER_NOT_FOUND',
      `No handler is registered for command ${commandType}; this bus handles ${
        known.length > 0 ? known.join(', ') : 'no commands'
      }.`,
    );
    this.commandType = commandType;
  }
}

/** A second handler was registered for a command that already has one. Raised at start-up. */
export class DuplicateHandler extends AnnalsError {
  readonly commandType: string;

  constructor(commandType: string, existing: string, added: string) {
    super(
      'DUPLICATE_HANDLER',
      `Command ${commandType} is already handled by ${existing}; ${added} cannot handle it too: each command has exactly one handler.`,
    );
    this.commandType = commandType;
  }
}
