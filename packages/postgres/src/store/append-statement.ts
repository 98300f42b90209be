import type { ExpectedRevisionValue, PreparedEvent } from '@annals/core';
import { type RawBuilder, sql } from 'kysely';
import { EVENTS_PER_TRANSACTION } from '../schema/migrations.js';

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
 * The whole append as ONE statement, so a batch costs one round trip:
 *
 * 1. `stream`: moves the stream row's revision forward by the batch size, but only when the expected
 *    revision holds (a conditional UPDATE, or an INSERT for a new stream). The row lock serialises
 *    writers of one stream; writers of other streams never meet. Zero rows = the check failed, and
 *    then nothing below writes anything.
 * 2. `slot`: this transaction's first free position. Positions are `(xid << 20) + n`; `n` continues
 *    after rows the same transaction appended before (an index range probe on the primary key).
 * 3. `written`: inserts the batch from arrays through `unnest`, numbering revisions and positions.
 * 4. the final SELECT returns the result and calls `pg_notify` once for the statement.
 */
export function appendStatement(args: {
  readonly schema: string;
  readonly streamId: string;
  readonly expected: ExpectedRevisionValue;
  readonly arrays: BatchArrays;
  readonly channel: string | undefined;
}): RawBuilder<AppendRow> {
  const { schema, streamId, expected, arrays } = args;
  const streams = sql.id(schema, 'streams');
  const events = sql.id(schema, 'events');
  const n = String(arrays.ids.length);
  const category = categoryOf(streamId);
  let stream: RawBuilder<unknown>;
  if (expected === 'any') {
    stream = sql`insert into ${streams} as s (stream_id, category, revision)
      values (${streamId}::text, ${category}::text, ${n}::bigint - 1)
      on conflict (stream_id) do update set revision = s.revision + ${n}::bigint, updated_at = now()
      returning s.revision`;
  } else if (expected === 'no_stream') {
    stream = sql`insert into ${streams} (stream_id, category, revision)
      values (${streamId}::text, ${category}::text, ${n}::bigint - 1)
      on conflict (stream_id) do nothing
      returning revision`;
  } else if (expected === 'stream_exists') {
    stream = sql`update ${streams} set revision = revision + ${n}::bigint, updated_at = now()
      where stream_id = ${streamId}::text
      returning revision`;
  } else {
    stream = sql`update ${streams} set revision = revision + ${n}::bigint, updated_at = now()
      where stream_id = ${streamId}::text and revision = ${String(expected)}::bigint
      returning revision`;
  }
  const notify =
    args.channel === undefined ? sql`` : sql`, pg_notify(${args.channel}::text, '')::text as notified`;
  return sql<AppendRow>`with stream as (${stream}),
    slot as (
      select coalesce(
        (select max(e.position) + 1 from ${events} e where e.position >= b.low and e.position < b.low + ${sql.lit(EVENTS_PER_TRANSACTION)}),
        b.low) as first
      from (select pg_current_xact_id()::text::bigint << 20 as low) b
    ),
    written as (
      insert into ${events} (position, transaction_id, stream_id, revision, id, type, schema_version, data, metadata)
      select slot.first + i.ord - 1, pg_current_xact_id(), ${streamId}::text, stream.revision - ${n}::bigint + i.ord,
        i.id, i.type, i.schema_version, i.data, i.metadata
      from stream, slot, ${batchRows(arrays)}
      returning position
    )
    select stream.revision::text as revision,
      (select min(position) from written)::text as first_position,
      (select max(position) from written)::text as last_position${notify}
    from stream`;
}

/** One row per event of a batch, matched by id against what is stored (for idempotent re-appends). */
export interface StoredMatchRow {
  readonly ord: string;
  readonly stream_id: string | null;
  readonly revision: string | null;
  readonly position: string | null;
  readonly same_content: boolean | null;
}

/** Looks up a batch's ids and compares each stored event's content with the batch (jsonb equality). */
export function storedMatchStatement(schema: string, arrays: BatchArrays): RawBuilder<StoredMatchRow> {
  const events = sql.id(schema, 'events');
  return sql<StoredMatchRow>`select i.ord::text as ord, e.stream_id, e.revision::text as revision, e.position::text as position,
      (e.type = i.type and e.schema_version = i.schema_version and e.data = i.data and e.metadata = i.metadata) as same_content
    from ${batchRows(arrays)}
    left join ${events} e on e.id = i.id
    order by i.ord`;
}
