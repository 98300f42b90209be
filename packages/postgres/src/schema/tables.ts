import type { ColumnType, Generated, Kysely } from 'kysely';

/** Where the Annals tables are: a `PostgresEventStore` is one. */
export interface AnnalsTablesLocation {
  readonly kysely: Kysely<any>;
  readonly schema: string;
}

/**
 * The `streams` table: one row per stream, holding its last revision. Appends update this row (and
 * only this row) to enforce the expected revision, so writers to different streams never contend.
 */
export interface StreamsTable {
  readonly stream_id: string;
  /** The stream id up to its first `-` (`account-7` -> `account`), or the whole id. */
  readonly category: string;
  /** Revision of the stream's last event. bigint columns are selected as text. */
  readonly revision: ColumnType<string, string | bigint, string | bigint>;
  /** Position of the stream's last event: the next append's events go above it. */
  readonly last_position: ColumnType<string, string | bigint, string | bigint>;
  readonly created_at: Generated<Date>;
  readonly updated_at: Generated<Date>;
}

/**
 * The `events` table, append-only (triggers reject UPDATE, TRUNCATE, and DELETE but for a move into
 * `events_archive`, see `archiveStream`). `position` is
 * `(transaction_id << 20) + index within the transaction`, so position order is commit-safe order.
 */
export interface EventsTable {
  readonly position: ColumnType<string, string | bigint, never>;
  readonly transaction_id: ColumnType<string, string | bigint, never>;
  readonly stream_id: string;
  readonly revision: ColumnType<string, string | bigint, never>;
  readonly id: string;
  readonly type: string;
  readonly schema_version: number;
  readonly data: unknown;
  readonly metadata: unknown;
  readonly recorded_at: Generated<Date>;
  /** The event's tags (migration 0008); null when it has none. */
  readonly tags: ColumnType<string[] | null, string[] | null | undefined, never>;
}

/** The `event_tags` table (migration 0008): one row per tag of an event, for queries and append conditions. */
export interface EventTagsTable {
  readonly tag: string;
  readonly position: ColumnType<string, string | bigint, never>;
  readonly type: string;
}

/** The `checkpoints` table: how far each projection (or other reader) got in the global log. */
export interface CheckpointsTable {
  readonly name: string;
  readonly position: ColumnType<string, string | bigint, string | bigint>;
  readonly updated_at: Generated<Date>;
}

/** The `snapshots` table: the last snapshot of each aggregate stream. */
export interface SnapshotsTable {
  readonly stream_id: string;
  readonly aggregate_type: string;
  readonly snapshot_version: number;
  readonly revision: ColumnType<string, string | bigint, string | bigint>;
  readonly state: unknown;
  readonly taken_at: Date;
}

/**
 * The Annals tables as Kysely sees them inside their schema. Use it to type queries of your own:
 * `store.kysely.withSchema(store.schema) as Kysely<AnnalsTables>`.
 */
export interface AnnalsTables {
  readonly streams: StreamsTable;
  readonly events: EventsTable;
  readonly event_tags: EventTagsTable;
  readonly checkpoints: CheckpointsTable;
  readonly snapshots: SnapshotsTable;
}
