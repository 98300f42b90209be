import { type EventMetadata, InvalidArgument, type NewEvent, type RecordedEvent } from '@annals/core';

/**
 * One line of an export: a recorded event exactly as stored (type and schema version before any
 * upcasting). `revision` and `position` are decimal strings (they are bigints); `position` is where
 * the event was in the source log (a target store assigns its own), `recordedAt` an ISO timestamp.
 */
export interface ExportedEvent {
  readonly id: string;
  readonly streamId: string;
  readonly revision: string;
  readonly position: string;
  readonly type: string;
  readonly schemaVersion: number;
  readonly recordedAt: string;
  readonly data: unknown;
  readonly metadata: EventMetadata;
  /** The event's tags; left out when it has none (so lines of untagged events are as before). */
  readonly tags?: readonly string[];
}

/** The export line of `event`. */
export function exportLine(event: RecordedEvent): string {
  const line: ExportedEvent = {
    id: event.id,
    streamId: event.streamId,
    revision: event.revision.toString(),
    position: event.position.toString(),
    type: event.type,
    schemaVersion: event.schemaVersion,
    recordedAt: event.recordedAt.toISOString(),
    data: event.data,
    metadata: event.metadata,
    ...(event.tags === undefined || event.tags.length === 0 ? {} : { tags: event.tags }),
  };
  return JSON.stringify(line);
}

/** An imported line, checked, with its revision as a bigint and its recordedAt as a Date. */
export interface ImportedEvent {
  readonly streamId: string;
  readonly revision: bigint;
  readonly recordedAt: Date;
  readonly event: NewEvent;
}

/** The timestamps `exportLine` writes (`Date.toISOString`), with or without milliseconds. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

/** Parses line `lineNumber` of an export; `INVALID_ARGUMENT` naming the line when it is not one. */
export function parseExportLine(text: string, lineNumber: number): ImportedEvent {
  let value: Partial<ExportedEvent>;
  try {
    value = JSON.parse(text) as Partial<ExportedEvent>;
  } catch (error) {
    throw new InvalidArgument(`Line ${lineNumber} of the import is not JSON: ${(error as Error).message}`);
  }
  const bad = (field: string, expected: string) =>
    new InvalidArgument(`Line ${lineNumber} of the import: ${field} must be ${expected}.`);
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw bad('the line', 'a JSON object');
  if (typeof value.id !== 'string') throw bad('id', 'a string');
  if (typeof value.streamId !== 'string' || value.streamId === '')
    throw bad('streamId', 'a non-empty string');
  if (typeof value.revision !== 'string' || !/^\d+$/.test(value.revision))
    throw bad('revision', 'a decimal string');
  if (typeof value.type !== 'string') throw bad('type', 'a string');
  if (!Number.isInteger(value.schemaVersion)) throw bad('schemaVersion', 'an integer');
  if (typeof value.metadata !== 'object' || value.metadata === null || Array.isArray(value.metadata)) {
    throw bad('metadata', 'an object');
  }
  if (!('data' in value)) throw bad('data', 'present');
  if (
    value.tags !== undefined &&
    (!Array.isArray(value.tags) || value.tags.some((t) => typeof t !== 'string'))
  ) {
    throw bad('tags', 'an array of strings when present');
  }
  const recordedAt = typeof value.recordedAt === 'string' ? new Date(value.recordedAt) : undefined;
  if (recordedAt === undefined || !ISO_TIME.test(value.recordedAt!) || Number.isNaN(recordedAt.getTime())) {
    throw bad('recordedAt', 'an ISO 8601 timestamp such as 2026-01-02T03:04:05.678Z');
  }
  return {
    streamId: value.streamId,
    revision: BigInt(value.revision),
    recordedAt,
    event: {
      id: value.id,
      type: value.type,
      schemaVersion: value.schemaVersion!,
      data: value.data,
      metadata: value.metadata,
      ...(value.tags === undefined ? {} : { tags: value.tags }),
    },
  };
}
