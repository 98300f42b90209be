import { AnnalsError } from '../errors/annals-error.js';
import { formatIssues, type ValidationIssue } from '../errors/store-errors.js';

/**
 * What is wrong with an upcaster chain (stable, for tests and tooling):
 * - `missing_step`: a chain stops below the current version, or a type is past v1 and no upcaster leads to it;
 * - `duplicate_step`: two upcasters start from the same (type, version);
 * - `cycle`: following the steps (through renames) comes back to where it started;
 * - `unknown_version`: a chain ends above the current version of its type;
 * - `unknown_type`: a chain ends at a type no event definition has;
 * - `backwards_step`: a step that keeps its type does not go to a higher version;
 * - `upcasts_current_version`: a step starts at (or above) the current version of a defined type, so
 *   events written today would be upcast away on read.
 */
export type UpcasterChainProblem =
  | 'missing_step'
  | 'duplicate_step'
  | 'cycle'
  | 'unknown_version'
  | 'unknown_type'
  | 'backwards_step'
  | 'upcasts_current_version';

/**
 * The upcaster registry does not fit the event definitions: a missing step, two upcasters for one
 * step, a cycle, a chain that ends at a version no definition has, or an upcaster for a type nobody
 * defines. Raised at start-up (when a store or runtime is created) or on `register`, never on read.
 *
 * @example
 * ```ts
 * // MoneyDeposited is defined at version 3, but only the step 1 -> 2 is registered:
 * new InMemoryEventStore({ events: [MoneyDeposited], upcasters });
 * // UpcasterChainInvalid: Upcaster chain for MoneyDeposited v1 is invalid: it stops at MoneyDeposited v2; ...
 * ```
 */
export class UpcasterChainInvalid extends AnnalsError {
  /** The type the faulty chain starts from. */
  readonly eventType: string;
  /** The version the faulty chain starts from, when one step is at fault. */
  readonly fromVersion: number | undefined;
  /** What kind of problem it is. */
  readonly problem: UpcasterChainProblem;

  constructor(args: {
    eventType: string;
    fromVersion?: number | undefined;
    problem: UpcasterChainProblem;
    /** A sentence saying what was found and what is expected. */
    detail: string;
  }) {
    const { eventType, fromVersion } = args;
    super(
      'UPCASTER_CHAIN_INVALID',
      `Upcaster chain for ${eventType}${fromVersion === undefined ? '' : ` v${fromVersion}`} is invalid: ${args.detail}`,
    );
    this.eventType = eventType;
    this.fromVersion = fromVersion;
    this.problem = args.problem;
  }
}

/**
 * Upcasting a stored event failed: an upcaster threw (or returned a Promise), its result does not
 * satisfy the current schema, or the event is stored at a version newer than this application defines
 * (written by a newer version of it). Names the event id, its stream, the stored type and version, the
 * target and each zod issue. Readers get this error instead of a bad event; the stored row is unchanged.
 */
export class UpcastFailed extends AnnalsError {
  readonly eventId: string;
  /** The stream of the event, when known. */
  readonly streamId: string | undefined;
  /** The type as stored. */
  readonly eventType: string;
  /** The version as stored. */
  readonly fromVersion: number;
  /** The type the chain leads to. */
  readonly toType: string;
  /** The version the chain leads to. */
  readonly toVersion: number;
  /** The schema's complaints about the upcast data; empty when an upcaster itself failed. */
  readonly issues: readonly ValidationIssue[];
  /**
   * The version this application defines for `toType`, when known. Above it (`toVersion >
   * definedVersion`), the event was written by a newer version of the application.
   */
  readonly definedVersion: number | undefined;

  constructor(
    args: {
      eventId: string;
      streamId?: string | undefined;
      eventType: string;
      fromVersion: number;
      toType: string;
      toVersion: number;
      definedVersion?: number | undefined;
      issues?: readonly ValidationIssue[];
      reason?: string;
    },
    options?: { cause?: unknown },
  ) {
    super('UPCAST_FAILED', upcastErrorMessage(args), options);
    this.definedVersion = args.definedVersion;
    this.eventId = args.eventId;
    this.streamId = args.streamId;
    this.eventType = args.eventType;
    this.fromVersion = args.fromVersion;
    this.toType = args.toType;
    this.toVersion = args.toVersion;
    this.issues = args.issues ?? [];
  }
}

function upcastErrorMessage(args: ConstructorParameters<typeof UpcastFailed>[0]): string {
  const { eventType, fromVersion, toType, toVersion, definedVersion } = args;
  if (definedVersion !== undefined && toVersion > definedVersion) {
    const where = args.streamId === undefined ? '' : ` in stream ${args.streamId}`;
    const readAs =
      toType === eventType && toVersion === fromVersion ? '' : `, read as ${toType} v${toVersion}`;
    return (
      `Event ${args.eventId}${where} is stored as ${eventType} v${fromVersion}${readAs}, but this application defines ${toType} only up to v${definedVersion}:` +
      ' it was written by a newer version of the application; deploy that version, or add the definition.'
    );
  }
  const issues = args.issues ?? [];
  const why =
    args.reason ??
    (issues.length > 0
      ? `the result does not match the current schema: ${formatIssues(issues)}`
      : 'unknown reason');
  const where = args.streamId === undefined ? '' : ` of stream ${args.streamId}`;
  return `Could not upcast event ${args.eventId}${where} from ${eventType} v${fromVersion} to ${toType} v${toVersion}: ${why}.`;
}
