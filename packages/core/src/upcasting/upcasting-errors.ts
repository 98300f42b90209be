import { AnnalsError } from '../errors/annals-error.js';
import { formatIssues, type ValidationIssue } from '../errors/store-errors.js';

/**
 * The upcaster registry does not fit the event definitions: a missing step, two upcasters for one
 * step, a cycle, a chain that ends at a version no definition has, or an upcaster for a type nobody
 * defines. Raised at start-up (when a store or runtime is created), never on read.
 */
export class UpcasterChainError extends AnnalsError {
  readonly eventType: string;
  readonly fromVersion: number | undefined;
  constructor(eventType: string, fromVersion: number | undefined, problem: string) {
    super(
      'UPCASTER_CHAIN_INVALID',
      `Upcaster chain for ${eventType}${fromVersion === undefined ? '' : ` v${fromVersion}`} is invalid: ${problem}`,
    );
    this.eventType = eventType;
    this.fromVersion = fromVersion;
  }
}

/**
 * Upcasting a stored event failed: an upcaster threw, or its result does not satisfy the current
 * schema. Names the event id, the stored type and version, the target, and each zod issue.
 */
export class UpcastError extends AnnalsError {
  readonly eventId: string;
  readonly eventType: string;
  readonly fromVersion: number;
  readonly toType: string;
  readonly toVersion: number;
  readonly issues: readonly ValidationIssue[];
  constructor(
    args: {
      eventId: string;
      eventType: string;
      fromVersion: number;
      toType: string;
      toVersion: number;
      issues?: readonly ValidationIssue[];
      reason?: string;
    },
    options?: { cause?: unknown },
  ) {
    const issues = args.issues ?? [];
    const why = args.reason ?? (issues.length > 0 ? formatIssues(issues) : 'unknown reason');
    super(
      'UPCAST_FAILED',
      `Could not upcast event ${args.eventId} from ${args.eventType} v${args.fromVersion} to ${args.toType} v${args.toVersion}: ${why}.`,
      options,
    );
    this.eventId = args.eventId;
    this.eventType = args.eventType;
    this.fromVersion = args.fromVersion;
    this.toType = args.toType;
    this.toVersion = args.toVersion;
    this.issues = issues;
  }
}
