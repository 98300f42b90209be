import type { EventMetadata, EventRegistry, RecordedEvent } from '@annals/core';
import type { StoredEvent } from '@annals/core/adapter';
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { AnnalsTables } from '../schema/tables.js';

/**
 * An events row as the store selects it: bigints as text (PGlite would turn int8 into a lossy
 * number), under their own names: an output column named `position` would make `ORDER BY position`
 * sort the text.
 */
export interface EventRow {
  readonly position_text: string;
  readonly stream_id: string;
  readonly revision_text: string;
  readonly id: string;
  readonly type: string;
  readonly schema_version: number;
  readonly data: unknown;
  /** Null when empty (`{}`). */
  readonly metadata: unknown;
  /**
   * `recorded_at` in microseconds since the epoch, a whole float8 (a number on every driver; exact
   * below 2^53, and date_part's float rounding stays far below half a microsecond until 2106).
   */
  readonly recorded_us: number | string;
  /** Stored size of data + metadata (after compression), for page sizing. */
  readonly stored_bytes: number;
  /** The event's tags; null when it has none. */
  readonly tags: string[] | null;
}

/** An events row of {@link selectStreamEvents}: the reader knows the stream. */
export type StreamEventRow = Omit<EventRow, 'stream_id'>;

/** The output columns of {@link selectEvents}, to select them again from a subquery of it. */
export const EVENT_ROW_COLUMNS = [
  'position_text',
  'stream_id',
  'revision_text',
  'id',
  'type',
  'schema_version',
  'data',
  'metadata',
  'recorded_us',
  'stored_bytes',
  'tags',
] as const satisfies readonly (keyof EventRow)[];

/** `select ... from events` with the columns of {@link EventRow}. */
export function selectEvents(db: Kysely<AnnalsTables>) {
  return selectStreamEvents(db).select('stream_id');
}

/**
 * `select ... from events` with the columns of {@link EventRow} but `stream_id`, for reads of one
 * stream: every column is a string the driver slices and a value it parses, per row.
 */
export function selectStreamEvents(db: Kysely<AnnalsTables>) {
  return db.selectFrom('events').select([
    sql<string>`position::text`.as('position_text'),
    sql<string>`revision::text`.as('revision_text'),
    'id',
    'type',
    'schema_version',
    'data',
    // Most events have none: null costs the driver no string and no JSON.parse.
    sql<unknown>`nullif(metadata, '{}'::jsonb)`.as('metadata'),
    // A number, not timestamp text to parse per row; date_part is float8, cheaper than extract's numeric.
    sql<number>`round(date_part('epoch', recorded_at) * 1000000)`.as('recorded_us'),
    sql<number>`pg_column_size(data) + pg_column_size(metadata)`.as('stored_bytes'),
    'tags',
  ]);
}

/**
 * Turns a selected row into the {@link StoredEvent} the registry decodes. The result is new (a new
 * object, a new Date, the driver's freshly parsed JSON), so it can be decoded with `{ owned: true }`.
 */
export function toStoredEvent(row: EventRow): StoredEvent {
  return storedEventOf(row, row.stream_id);
}

function storedEventOf(row: StreamEventRow, streamId: string): StoredEvent {
  return {
    id: row.id,
    type: row.type,
    schemaVersion: row.schema_version,
    streamId,
    revision: BigInt(row.revision_text),
    position: BigInt(row.position_text),
    data: row.data,
    metadata: (row.metadata ?? {}) as EventMetadata,
    // Whole milliseconds, truncated towards the past as the timestamp text was.
    recordedAt: new Date(Math.floor(Number(row.recorded_us) / 1000)),
    ...(row.tags === null ? {} : { tags: row.tags }),
  };
}

const OWNED = Object.freeze({ owned: true });

/** Decodes a selected row; the row's objects are this read's own, so they are frozen in place. */
export function decodeRow(registry: EventRegistry, row: EventRow): RecordedEvent {
  return registry.decode(storedEventOf(row, row.stream_id), OWNED);
}

/** {@link decodeRow} for a row of {@link selectStreamEvents}: the caller names the stream. */
export function decodeStreamRow(
  registry: EventRegistry,
  row: StreamEventRow,
  streamId: string,
): RecordedEvent {
  return registry.decode(storedEventOf(row, streamId), OWNED);
}

/** The stored sizes of a page's rows. */
export function storedBytes(rows: readonly StreamEventRow[]): number[] {
  return rows.map((row) => Number(row.stored_bytes));
}

/** The horizon, `xmin << 20`, of the current snapshot: every position below it is final. */
export const HORIZON = sql<string>`(pg_snapshot_xmin(pg_current_snapshot())::text::bigint << 20)`;

/**
 * `position < horizon`: the rows no running transaction can still precede. Every transaction below
 * the snapshot's xmin has ended, and every position of a transaction is above `xid << 20`, so a
 * reader that pages by position never skips a late commit nor sees a lower position later. The
 * horizon is a scalar subquery: computed once per statement (from the statement's snapshot, like the
 * rows it filters) instead of per row.
 */
export function belowHorizonOf(position: RawBuilder<unknown>) {
  return sql<boolean>`${position} < (select ${HORIZON})`;
}
