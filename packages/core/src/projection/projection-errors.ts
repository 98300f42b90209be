import { AnnalsError, hasErrorCode } from '../errors/annals-error.js';
import type { RecordedEvent } from '../events/event-types.js';

/** The event a projection failed on, as kept in errors and in `status().lastError`. */
export interface FailedEventInfo {
  readonly id: string;
  readonly type: string;
  /** Unknown when the event could not be read (an upcast failure names only id and type). */
  readonly streamId: string | undefined;
  /** Unknown when the event could not be read. */
  readonly position: bigint | undefined;
}

/** Picks the identifying fields of an event for error reports. */
export function failedEventInfo(event: RecordedEvent): FailedEventInfo {
  return { id: event.id, type: event.type, streamId: event.streamId, position: event.position };
}

/**
 * A projection stopped: its handler (or reading its events) kept failing after every retry the
 * failure policy allows. The projection's checkpoint stays before the failed event, so nothing was
 * skipped; fix the cause and `runner.restart(name)` it. `cause` is the last error.
 */
export class ProjectionFailed extends AnnalsError {
  /** The projection (or shard key) that failed. */
  readonly projection: string;
  /** The event the handler failed on, when the failure was in a handler. */
  readonly event: FailedEventInfo | undefined;
  /** How many attempts were made, the first included. */
  readonly attempts: number;

  constructor(projection: string, event: FailedEventInfo | undefined, attempts: number, cause: unknown) {
    const where = [
      event?.type,
      event?.streamId === undefined ? undefined : `stream ${event.streamId}`,
      event?.position === undefined ? undefined : `position ${event.position}`,
    ].filter((part) => part !== undefined);
    const on =
      event === undefined ? 'reading or committing its events' : `event ${event.id} (${where.join(', ')})`;
    super(
      'PROJECTION_FAILED',
      `Projection ${projection} failed on ${on} after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${describeCause(cause)}`,
      { cause },
    );
    this.projection = projection;
    this.event = event;
    this.attempts = attempts;
  }
}

/** A projection definition (or runner option) is not usable; the message names the field and the value found. */
export class ProjectionDefinitionInvalid extends AnnalsError {
  /** The projection concerned, when known. */
  readonly projection: string | undefined;
  constructor(projection: string | undefined, message: string) {
    super(
      'PROJECTION_DEFINITION_INVALID',
      projection === undefined ? message : `Projection ${projection}: ${message}`,
    );
    this.projection = projection;
  }
}

/**
 * This runner no longer owns a projection (or shard): its lease expired, was released, or another
 * runner took it (a checkpoint that moved under a lease still held is a {@link CheckpointConflict}).
 * Whatever the batch wrote was rolled back with the failed
 * compare-and-swap; the runner goes back to standby and resumes from the checkpoint if it gets the
 * lease again. Not a failure of the projection.
 */
export class LeaseLost extends AnnalsError {
  /** The lease / checkpoint key. */
  readonly key: string;
  /** This runner's owner id. */
  readonly owner: string | undefined;
  constructor(key: string, owner: string | undefined, detail: string) {
    super('LEASE_LOST', `Runner ${owner ?? '(no owner)'} no longer owns ${key}: ${detail}`);
    this.key = key;
    this.owner = owner;
  }
}

/** True when `value` is a {@link LeaseLost}, also across package copies. */
export function isLeaseLost(value: unknown): value is LeaseLost {
  return hasErrorCode(value, 'LEASE_LOST');
}

/**
 * A checkpoint save lost its compare-and-swap: the stored checkpoint is no longer the one the caller
 * read (another runner or a rebuild moved it). Nothing was written, and the caller's transaction must
 * roll back; a runner stands by and resumes from the stored checkpoint. A store that checks leases
 * throws it when the saving runner still holds the lease, and {@link LeaseLost} when it does not.
 */
export class CheckpointConflict extends AnnalsError {
  /** The checkpoint key. */
  readonly key: string;
  /** The runner that tried to save, when it said. */
  readonly owner: string | undefined;
  /** The checkpoint the save expected (undefined: none). */
  readonly expected: bigint | undefined;
  /** The checkpoint found (undefined: none). */
  readonly found: bigint | undefined;
  constructor(
    key: string,
    conflict: {
      readonly expected: bigint | undefined;
      readonly found: bigint | undefined;
      readonly owner?: string | undefined;
    },
  ) {
    super(
      'CHECKPOINT_CONFLICT',
      `Cannot save checkpoint ${key}${conflict.owner === undefined ? '' : ` for runner ${conflict.owner}`}: the checkpoint moved: expected ${conflict.expected ?? 'none'}, found ${conflict.found ?? 'none'}.`,
    );
    this.key = key;
    this.owner = conflict.owner;
    this.expected = conflict.expected;
    this.found = conflict.found;
  }
}

/** True when `value` is a {@link CheckpointConflict}, also across package copies. */
export function isCheckpointConflict(value: unknown): value is CheckpointConflict {
  return hasErrorCode(value, 'CHECKPOINT_CONFLICT');
}

function describeCause(cause: unknown): string {
  if (cause instanceof Error) return `${cause.name}: ${cause.message}`;
  return String(cause);
}
