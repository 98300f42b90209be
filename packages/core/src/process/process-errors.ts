import { AnnalsError } from '../errors/annals-error.js';
import type { RejectionInfo } from './process-store.js';

/** A process manager definition (or its runner's options) is malformed. Raised at start-up. */
export class ProcessManagerDefinitionInvalid extends AnnalsError {
  /** The process manager's name, when it is known. */
  readonly processManager: string | undefined;

  constructor(processManager: string | undefined, problem: string) {
    super(
      'PROCESS_MANAGER_DEFINITION_INVALID',
      processManager === undefined
        ? `Invalid process manager definition: ${problem}`
        : `Process manager ${processManager} is invalid: ${problem}`,
    );
    this.processManager = processManager;
  }
}

/**
 * A command sent by a compensation was rejected too (or a step was rejected and the definition
 * declares no compensation). The input is retried under the failure policy, then the process
 * manager stops at it: nothing is skipped silently.
 */
export class ProcessCompensationFailed extends AnnalsError {
  readonly processManager: string;
  readonly key: string;
  /** The type of the command that was rejected. */
  readonly commandType: string;
  readonly rejection: RejectionInfo;

  constructor(
    processManager: string,
    key: string,
    commandType: string,
    rejection: RejectionInfo,
    why: string,
  ) {
    super(
      'PROCESS_COMPENSATION_FAILED',
      `Process manager ${processManager} (${key}): command ${commandType} was rejected (${rejection.name}: ${rejection.message}) ${why}.`,
    );
    this.processManager = processManager;
    this.key = key;
    this.commandType = commandType;
    this.rejection = rejection;
  }
}
