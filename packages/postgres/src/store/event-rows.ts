import type { EventMetadata, EventRegistry, RecordedEvent } from '@annals/core';
import type { StoredEvent } from '@annals/core/adapter';
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { AnnalsTables } from '../schema/tables.js';

/**
 * An events row as the store selects it: bigints as text (PGlite would turn int8 into a lossy
 * number), under their own names: an output column named `position` would make `ORDER BY position`
 * sort the text. The columns come in this order, which array rows (see `event-pages.ts`) rely on.
 */
export interface EventRow {
  readonly position_text: string;
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
  readonly stream_id: string;
}

/** An events row of {@link selectStreamEvents}: the reader knows the stream. */
export type StreamEventRow = Omit<EventRow, 'stream_id'>;

/** The output columns of {@link selectEvents}, in order, to select them again from a subquery of it. */
export const EVENT_ROW_COLUMNS = [
  'position_text',
  'revision_text',
  'id',
  'type',
  'schema_version',
  'data',
  'metadata',
  'recorded_us',
  'stored_bytes',
  'tags',
  'stream_id',
] as const satisfies readonly (keyof EventRow)[];

/** `select ... from events` with the columns of {@link EventRow}, in the order of {@link EVENT_ROW_COLUMNS}. */
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
 * The {@link StoredEvent} the registry decodes, from a row's values. The result is new (a new
 * object, a new Date, the driver's freshly parsed JSON), so it can be decoded with `{ owned: true }`.
 * Every event gets the same shape (`tags` undefined when it has none), which keeps property access
 * on them monomorphic.
 */
export function storedEvent(
  streamId: string,
  position: string,
  revision: string,
  id: string,
  type: string,
  schemaVersion: number,
  data: unknown,
  metadata: unknown,
  recordedUs: number | string,
  tags: string[] | null,
): StoredEvent {
  return {
    id,
    type,
    schemaVersion,
    streamId,
    revision: BigInt(revision),
    position: BigInt(position),
    data,
    // Empty metadata is an object of each event's own, as every read gives it.
    metadata: (metadata ?? {}) as EventMetadata,
    // Whole milliseconds, truncated towards the past as the timestamp text was.
    recordedAt: new Date(Math.floor(Number(recordedUs) / 1000)),
    tags: tags ?? undefined,
  } as StoredEvent;
}

/** {@link storedEvent} of an object row; `streamId` names the stream of a {@link StreamEventRow}. */
export function toStoredEvent(row: StreamEventRow, streamId = (row as EventRow).stream_id): StoredEvent {
  return storedEvent(
    streamId,
    row.position_text,
    row.revision_text,
    row.id,
    row.type,
    row.schema_version,
    row.data,
    row.metadata,
    row.recorded_us,
    row.tags,
  );
}

const OWNED = Object.freeze({ owned: true });

/** Decodes a stored event built for this read alone: its objects are frozen in place. */
export function decodeOwned(registry: EventRegistry, event: StoredEvent): RecordedEvent {
  return registry.decode(event, OWNED);
}

/** Decodes a selected row; the row's objects are this read's own, so they are frozen in place. */
export function decodeRow(registry: EventRegistry, row: EventRow): RecordedEvent {
  return registry.decode(toStoredEvent(row), OWNED);
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
