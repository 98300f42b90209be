import type { RecordedEvent } from '@annals/core';
import { InvalidArgument } from '@annals/core';
import { assertStreamId } from '@annals/core/adapter';
import { sql, type Transaction } from 'kysely';
import { decodeRow, type EventRow } from '../store/event-rows.js';
import type { PostgresEventStore } from '../store/postgres-event-store.js';
import { orUnavailable } from '../store/unavailable.js';

/** What an archive call moved. */
export interface ArchiveResult {
  /** Events moved from the hot log to `events_archive` by this call. */
  readonly events: number;
}

/**
 * Moves every event of one stream to the cold part of the log (`events_archive`), in one
 * transaction: normal reads (`readStream`, `readAll`, subscriptions, projections catching up) skip
 * it from then on, {@link readArchive} reaches it. Events keep their positions, revisions and ids;
 * nothing is changed, only moved. The stream keeps its revision: a later append continues after it.
 * Archive streams that are closed: an append that re-sends an archived event id is not recognised
 * as a retry.
 */
export function archiveStream(store: PostgresEventStore, streamId: string): Promise<ArchiveResult> {
  assertStreamId(streamId);
  return archiveWhere(store, `stream ${streamId}`, (events) => sql`${events}.stream_id = ${streamId}`);
}

/**
 * Moves every event below global position `position` to the cold part of the log, like
 * {@link archiveStream}. Events of transactions still open below it stay hot.
 */
export function archiveBefore(store: PostgresEventStore, position: bigint): Promise<ArchiveResult> {
  if (typeof position !== 'bigint' || position < 0n) {
    throw new InvalidArgument(`archiveBefore expects a position (a bigint >= 0), found ${String(position)}.`);
  }
  return archiveWhere(
    store,
    `the events before position ${position}`,
    (events) => sql`${events}.position < ${position}`,
  );
}

async function archiveWhere(
  store: PostgresEventStore,
  what: string,
  where: (events: ReturnType<typeof sql.id>) => ReturnType<typeof sql>,
): Promise<ArchiveResult> {
  const events = sql.id(store.schema, 'events');
  const archive = sql.id(store.schema, 'events_archive');
  const moved = await orUnavailable(`archiving ${what}`, () =>
    store.transaction(async (tx: Transaction<any>) => {
      await sql`select set_config('annals.archiving', 'on', true)`.execute(tx);
      const copied = await sql`insert into ${archive}
          (position, transaction_id, stream_id, revision, id, type, schema_version, data, metadata, recorded_at, tags)
        select position, transaction_id, stream_id, revision, id, type, schema_version, data, metadata, recorded_at, tags
        from ${events} where ${where(events)} order by position`.execute(tx);
      await sql`delete from ${events} where ${where(events)}
        and ${events}.position in (select position from ${archive})`.execute(tx);
      return Number(copied.numAffectedRows ?? 0n);
    }),
  );
  return { events: moved };
}

/** Options of {@link readArchive}. */
export interface ReadArchiveOptions {
  /** Only this stream's archived events. */
  readonly streamId?: string;
  /** First position (inclusive). */
  readonly fromPosition?: bigint;
  /** Rows per page. Default 1000. */
  readonly pageSize?: number;
}

/**
 * The explicit read of the cold part of the log: archived events in position order (of one stream
 * when `streamId` is given), decoded and upcast like every read of the store.
 */
export async function* readArchive(
  store: PostgresEventStore,
  options: ReadArchiveOptions = {},
): AsyncGenerator<RecordedEvent> {
  if (options.streamId !== undefined) assertStreamId(options.streamId);
  const pageSize = options.pageSize ?? 1000;
  let from = options.fromPosition ?? 0n;
  const archive = sql.id(store.schema, 'events_archive');
  for (;;) {
    const { rows } = await orUnavailable('reading the archive', () =>
      sql<EventRow>`select position::text as position_text, stream_id, revision::text as revision_text, id, type,
          schema_version, data, nullif(metadata, '{}'::jsonb) as metadata,
          round(date_part('epoch', recorded_at) * 1000000) as recorded_us, 0 as stored_bytes, tags
        from ${archive}
        where position >= ${from}
          ${options.streamId === undefined ? sql`` : sql`and stream_id = ${options.streamId}`}
        order by position limit ${pageSize}`.execute(store.kysely.withoutPlugins()),
    );
    for (const row of rows) yield decodeRow(store.registry, row);
    if (rows.length < pageSize) return;
    from = BigInt(rows.at(-1)!.position_text) + 1n;
  }
}
