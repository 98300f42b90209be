import type { ExpectedRevisionValue } from '@annals/core';
import type { PreparedEvent } from '@annals/core/adapter';
import { type RawBuilder, sql } from 'kysely';
import { PREPARED_STATEMENT_MARKER } from '../connection/postgres-connection.js';

/** The row the append statement returns when it wrote the batch (none when the expected revision failed). */
export interface AppendRow {
  readonly revision: string;
  readonly first_position: string;
  readonly last_position: string;
}

/** The columns of a batch, as the arrays `unnest` turns back into rows. */
export interface BatchArrays {
  readonly ids: string[];
  readonly types: string[];
  readonly versions: number[];
  readonly data: string[];
  readonly metadata: string[];
}

/** Splits a prepared batch into one array per column. */
export function toBatchArrays(batch: readonly PreparedEvent[]): BatchArrays {
  const arrays: BatchArrays = { ids: [], types: [], versions: [], data: [], metadata: [] };
  for (const event of batch) {
    arrays.ids.push(event.id);
    arrays.types.push(event.type);
    arrays.versions.push(event.schemaVersion);
    arrays.data.push(event.dataJson);
    arrays.metadata.push(event.metadataJson);
  }
  return arrays;
}

/** `unnest(...) with ordinality as i(id, type, schema_version, data, metadata, ord)` over a batch. */
export function batchRows(arrays: BatchArrays): RawBuilder<unknown> {
  return sql`unnest(${arrays.ids}::uuid[], ${arrays.types}::text[], ${arrays.versions}::int4[], ${arrays.data}::jsonb[], ${arrays.metadata}::jsonb[])
    with ordinality as i(id, type, schema_version, data, metadata, ord)`;
}

/** The stream id up to its first `-`, or the whole id: `account-7` -> `account`. */
export function categoryOf(streamId: string): string {
  const dash = streamId.indexOf('-');
  return dash > 0 ? streamId.slice(0, dash) : streamId;
}

/**
 * The whole append as ONE statement, so a batch costs one round trip: a call of the schema's
 * `annals_append` function (migration 0004), whose statements keep their plans for the session; on
 * a pool the store owns the call itself is a named prepared statement ({@link PREPARED_STATEMENT_MARKER}).
 * It returns no row when nothing was written: the expected revision did not hold, or the stream's
 * last event lies above this transaction's positions (a writer with a newer transaction id took the
 * stream first); the caller tells the two apart by reading the stream's revision.
 */
export function appendStatement(args: {
  readonly schema: string;
  readonly streamId: string;
  readonly expected: ExpectedRevisionValue;
  readonly arrays: BatchArrays;
  readonly channel: string | undefined;
}): RawBuilder<AppendRow> {
  const { schema, streamId, expected, arrays } = args;
  const kind = typeof expected === 'bigint' ? 'revision' : expected;
  const revision = typeof expected === 'bigint' ? String(expected) : null;
  return sql<AppendRow>`${sql.raw(PREPARED_STATEMENT_MARKER)} select r_revision::text as revision, r_first_position::text as first_position,
      r_last_position::text as last_position
    from ${sql.id(schema, 'annals_append')}(${streamId}::text, ${categoryOf(streamId)}::text, ${kind}::text,
      ${revision}::bigint, ${arrays.ids}::uuid[], ${arrays.types}::text[], ${arrays.versions}::int4[],
      ${arrays.data}::jsonb[], ${arrays.metadata}::jsonb[], ${args.channel ?? null}::text)`;
}

/** One row per event of a batch, matched by id against what is stored (for idempotent re-appends). */
export interface StoredMatchRow {
  readonly ord: string;
  readonly stream_id: string | null;
  readonly revision: string | null;
  readonly position: string | null;
  readonly same_content: boolean | null;
  /** The stream's current revision (null: no stream), the same on every row. */
  readonly current_revision: string | null;
}

/**
 * Looks up a batch's ids and compares each stored event's content with the batch (jsonb equality);
 * every row also carries the stream's current revision, which a refused append reports.
 */
export function storedMatchStatement(
  schema: string,
  streamId: string,
  arrays: BatchArrays,
): RawBuilder<StoredMatchRow> {
  const events = sql.id(schema, 'events');
  const streams = sql.id(schema, 'streams');
  return sql<StoredMatchRow>`select i.ord::text as ord, e.stream_id, e.revision::text as revision, e.position::text as position,
      (e.type = i.type and e.schema_version = i.schema_version and e.data = i.data and e.metadata = i.metadata) as same_content,
      (select s.revision::text from ${streams} s where s.stream_id = ${streamId}::text) as current_revision
    from ${batchRows(arrays)}
    left join ${events} e on e.id = i.id
    order by i.ord`;
}
