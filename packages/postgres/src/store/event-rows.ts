import type { EventMetadata, StoredEvent } from '@annals/core';
import { type Kysely, sql } from 'kysely';
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
  readonly metadata: unknown;
  readonly recorded_at: Date | string;
  /** Stored size of data + metadata (after compression), for page sizing. */
  readonly stored_bytes: number;
}

/** `select ... from events` with the columns of {@link EventRow}. */
export function selectEvents(db: Kysely<AnnalsTables>) {
  return db
    .selectFrom('events')
    .select([
      sql<string>`position::text`.as('position_text'),
      'stream_id',
      sql<string>`revision::text`.as('revision_text'),
      'id',
      'type',
      'schema_version',
      'data',
      'metadata',
      'recorded_at',
      sql<number>`pg_column_size(data) + pg_column_size(metadata)`.as('stored_bytes'),
    ]);
}

/** Turns a selected row into the {@link StoredEvent} the registry decodes. */
export function toStoredEvent(row: EventRow): StoredEvent {
  return {
    id: row.id,
    type: row.type,
    schemaVersion: row.schema_version,
    streamId: row.stream_id,
    revision: BigInt(row.revision_text),
    position: BigInt(row.position_text),
    data: row.data,
    metadata: (row.metadata ?? {}) as EventMetadata,
    recordedAt: row.recorded_at instanceof Date ? row.recorded_at : new Date(row.recorded_at),
  };
}

/** The stored sizes of a page's rows. */
export function storedBytes(rows: readonly EventRow[]): number[] {
  return rows.map((row) => Number(row.stored_bytes));
}

/**
 * `position < (xmin << 20)`: the rows no running transaction can still precede. Every transaction
 * below the snapshot's xmin has ended, and every position of a transaction is above `xid << 20`,
 * so a reader that pages by position never skips a late commit nor sees a lower position later.
 */
export const belowHorizon = sql<boolean>`position < (pg_snapshot_xmin(pg_current_snapshot())::text::bigint << 20)`;
