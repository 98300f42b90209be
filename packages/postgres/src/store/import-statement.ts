import type { ExpectedRevisionValue } from '@annals/core';
import { type RawBuilder, sql } from 'kysely';
import { type AppendRow, type BatchArrays, categoryOf, EVENTS_PER_TRANSACTION } from './append-function.js';

// The append of an import that keeps each event's recordedAt: the same steps as `annals_append`
// (see append-function.ts) as one statement, with a `recorded_at` column the function does not take.

/**
 * One statement that appends a batch with the given `recorded_at` of each event: it takes the
 * transaction's first free position (`(xid << 20) + n`), moves the stream row forward only when the
 * expected revision holds and the stream's last event lies below that position (as `annals_append`
 * does, which keeps a stream's revisions in position order), inserts the events, and notifies
 * `channel` when given. It returns the same row as the append statement, or none when nothing was
 * written (the caller tells a moved revision from a newer writer, as for an append).
 */
export function importStatement(args: {
  readonly schema: string;
  readonly streamId: string;
  readonly expected: ExpectedRevisionValue;
  readonly arrays: BatchArrays;
  readonly recordedAt: readonly Date[];
  readonly channel: string | undefined;
}): RawBuilder<AppendRow> {
  const { schema, streamId, expected, arrays } = args;
  const streams = sql.id(schema, 'streams');
  const events = sql.id(schema, 'events');
  const n = sql`${String(arrays.ids.length)}::bigint`;
  const stream = sql`${streamId}::text`;
  const category = sql`${categoryOf(streamId)}::text`;
  const moveStream =
    expected === 'any'
      ? sql`insert into ${streams} as s (stream_id, category, revision, last_position)
          select ${stream}, ${category}, ${n} - 1, f.first + ${n} - 1 from f
          on conflict (stream_id) do update
            set revision = s.revision + ${n}, last_position = excluded.last_position, updated_at = now()
            where s.last_position < excluded.last_position - ${n} + 1
          returning s.revision`
      : expected === 'no_stream'
        ? sql`insert into ${streams} (stream_id, category, revision, last_position)
          select ${stream}, ${category}, ${n} - 1, f.first + ${n} - 1 from f
          on conflict (stream_id) do nothing
          returning revision`
        : sql`update ${streams} s
          set revision = s.revision + ${n}, last_position = f.first + ${n} - 1, updated_at = now()
          from f
          where s.stream_id = ${stream} and s.last_position < f.first
            ${expected === 'stream_exists' ? sql`` : sql`and s.revision = ${String(expected)}::bigint`}
          returning s.revision`;
  const notify =
    args.channel === undefined
      ? sql``
      : sql`, (select 1 from pg_notify(${args.channel}::text, '')) as notified`;
  return sql<AppendRow>`with x as (
      select pg_current_xact_id() as xid, (pg_current_xact_id()::text::bigint << 20) as low
    ), f as (
      select x.xid, coalesce((select max(e.position) + 1 from ${events} e
        where e.position >= x.low and e.position < x.low + ${sql.lit(EVENTS_PER_TRANSACTION)}), x.low) as first
      from x
    ), moved as (
      ${moveStream}
    ), written as (
      insert into ${events} (position, transaction_id, stream_id, revision, id, type, schema_version, data, metadata, recorded_at)
      select f.first + i.ord - 1, f.xid, ${stream}, moved.revision - ${n} + i.ord,
        i.id, i.type, i.schema_version, i.data, i.metadata, i.recorded_at
      from f, moved, unnest(${arrays.ids}::uuid[], ${arrays.types}::text[], ${arrays.versions}::int4[],
          ${arrays.data}::jsonb[], ${arrays.metadata}::jsonb[], ${args.recordedAt.map((d) => d.toISOString())}::timestamptz[])
        with ordinality as i(id, type, schema_version, data, metadata, recorded_at, ord)
      returning position, revision
    )
    select max(revision)::text as revision, min(position)::text as first_position,
      max(position)::text as last_position${notify}
    from written
    having count(*) > 0`;
}
