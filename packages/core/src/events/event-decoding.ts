import { noTags } from '../dcb/tags.js';
import type { ValidationIssue } from '../errors/store-errors.js';
import { UpcastFailed } from '../upcasting/upcasting-errors.js';
import type { DecodePlan } from './decode-plan.js';
import { deepFreeze } from './deep-freeze.js';
import type { RecordedEvent, StoredEvent } from './event-types.js';
import { toIssues } from './zod-issues.js';

/** Options for `EventRegistry.decode`. */
export interface DecodeOptions {
  /**
   * The row, its `recordedAt`, data and metadata were built for this read alone and the caller keeps
   * no reference to them: they are frozen in place instead of copied. Default false.
   */
  readonly owned?: boolean;
}

/**
 * A stored row as readers see it, following `plan` (the plan of the row's type and version): upcast
 * and validated when it has steps, decoded by a schema with codecs, then deeply frozen. Throws
 * {@link UpcastFailed} rather than return a bad read; the row itself is never changed (its data and
 * metadata are frozen before any upcaster sees them). See `EventRegistry.decode`.
 */
export function decodeEvent(row: StoredEvent, plan: DecodePlan, options?: DecodeOptions): RecordedEvent {
  const owned = options?.owned === true;
  if (plan.steps.length === 0) {
    if (plan.failure !== undefined) throw upcastError(row, plan, { reason: plan.failure });
    if (plan.mode !== 'codec') {
      if (!owned) return freezeEvent(copyEvent(row, row.type, row.schemaVersion, row.data));
      (row as { tags: readonly string[] }).tags = tagsOf(row, true);
      return freezeEvent(row);
    }
  }
  const metadata = deepFreeze(row.metadata);
  // Upcasters see and return the stored (encoded) form; the schema then decodes the result.
  let data: unknown = deepFreeze(row.data);
  for (const step of plan.steps) {
    try {
      data = step.up(data, metadata);
    } catch (cause) {
      const message = cause instanceof Error ? cause.message : String(cause);
      throw upcastError(
        row,
        plan,
        { reason: `the upcaster from ${step.type} v${step.from} threw: ${message}` },
        cause,
      );
    }
    if (isThenable(data)) {
      throw upcastError(row, plan, {
        reason: `the upcaster from ${step.type} v${step.from} returned a Promise; upcasters must be synchronous`,
      });
    }
  }
  const result = plan.definition!.schema.safeParse(data);
  if (!result.success) throw upcastError(row, plan, { issues: toIssues(result.error) });
  return freezeEvent(copyEvent(row, plan.target.type, plan.target.version, result.data, owned));
}

function upcastError(
  stored: StoredEvent,
  plan: DecodePlan,
  why: { reason?: string; issues?: readonly ValidationIssue[] },
  cause?: unknown,
): UpcastFailed {
  return new UpcastFailed(
    {
      eventId: stored.id,
      streamId: stored.streamId,
      eventType: stored.type,
      fromVersion: stored.schemaVersion,
      toType: plan.target.type,
      toVersion: plan.target.version,
      definedVersion: plan.definition?.version,
      ...why,
    },
    cause === undefined ? undefined : { cause },
  );
}

/**
 * A new event with the row's identity and position, its own copy of `recordedAt` (a frozen Date still
 * changes through setTime()) unless the row is `owned` (then its Date and tags are taken as they
 * are), and the given type, version and data.
 */
function copyEvent(
  row: StoredEvent,
  type: string,
  schemaVersion: number,
  data: unknown,
  owned = false,
): StoredEvent {
  return {
    id: row.id,
    type,
    schemaVersion,
    streamId: row.streamId,
    revision: row.revision,
    position: row.position,
    data,
    metadata: row.metadata,
    recordedAt: owned ? row.recordedAt : new Date(row.recordedAt.getTime()),
    tags: tagsOf(row, owned),
  };
}

/**
 * The row's tags, frozen, as readers get them (an empty array when it has none): a frozen copy, or
 * when the row is `owned`, its own array frozen in place.
 */
function tagsOf(row: StoredEvent, owned: boolean): readonly string[] {
  const { tags } = row;
  if (tags === undefined || tags.length === 0) return noTags();
  if (Object.isFrozen(tags)) return tags;
  return owned ? Object.freeze(tags) : Object.freeze([...tags]);
}

/** Freezes an event and what it holds: its Date, data and metadata (the other fields are primitives). */
function freezeEvent(event: StoredEvent): RecordedEvent {
  if (event.tags !== undefined) Object.freeze(event.tags);
  Object.freeze(event);
  Object.freeze(event.recordedAt);
  deepFreeze(event.data);
  deepFreeze(event.metadata);
  return event as RecordedEvent;
}

function isThenable(value: unknown): boolean {
  return (
    typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'
  );
}
