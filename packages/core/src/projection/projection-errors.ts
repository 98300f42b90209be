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
 * This runner no longer owns a projection (or shard): its lease expired and another runner took it,
 * or the checkpoint moved under it. Whatever the batch wrote was rolled back with the failed
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

function describeCause(cause: unknown): string {
  if (cause instanceof Error) return `${cause.name}: ${cause.message}`;
  return String(cause);
}
