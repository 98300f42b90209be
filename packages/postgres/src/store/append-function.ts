import type { ExpectedRevisionValue } from '@annals/core';
import type { PreparedEvent } from '@annals/core/adapter';
import { type RawBuilder, sql } from 'kysely';
import { PREPARED_STATEMENT_MARKER } from '../connection/postgres-connection.js';

// The append's SQL and the TypeScript that calls it: `annals_append`, the PL/pgSQL function that
// appends one batch (installed by migration 0004, which takes its text from here), the statement that
// calls it, and the batch arrays and row it takes and returns.

/** 2^20: the number of positions each transaction owns, hence the most events one transaction may append. */
export const EVENTS_PER_TRANSACTION = 1_048_576;

/**
 * `annals_append(...)`: the whole append of one batch, called as one statement. A PL/pgSQL function
 * keeps its statements' plans for the session, so an append is not planned again on every call.
 *
 * 1. `v_first`: this transaction's first free position. Positions are `(xid << 20) + n`; `n` continues
 *    after rows the same transaction appended before (an index range probe on the primary key, skipped
 *    when the transaction has no id yet, as in every autocommit append).
 * 2. The stream row moves forward by the batch size, but only when the expected revision holds (a
 *    conditional UPDATE, or an INSERT for a new stream) AND the stream's last event lies below
 *    `v_first`. The row lock serialises writers of one stream; writers of other streams never meet.
 *    The second condition keeps a stream's revisions in position order: a writer whose transaction
 *    id is older than that of a writer who took the row lock first would otherwise put the later
 *    revision at the lower position. No row = nothing is written; the caller finds out why (a moved
 *    revision, or an older transaction id: an autocommit append then runs again with a new one).
 * 3. The batch is inserted from arrays through `unnest`, numbering revisions and positions.
 * 4. `p_channel` not null: one `pg_notify` (delivered by PostgreSQL at commit).
 */
export function appendFunction(schema: string): RawBuilder<unknown> {
  const streams = sql.id(schema, 'streams');
  const events = sql.id(schema, 'events');
  return sql`create function ${sql.id(schema, 'annals_append')}(
      p_stream_id text, p_category text, p_expected text, p_expected_revision bigint,
      p_ids uuid[], p_types text[], p_versions int4[], p_data jsonb[], p_metadata jsonb[], p_channel text)
    returns table (r_revision bigint, r_first_position bigint, r_last_position bigint)
    language plpgsql volatile as $$
    declare
      -- A transaction without an id has written nothing yet: its range is empty (no probe needed).
      v_fresh boolean := pg_current_xact_id_if_assigned() is null;
      v_xid xid8 := pg_current_xact_id();
      v_n bigint := cardinality(p_ids);
      v_low bigint := v_xid::text::bigint << 20;
      v_first bigint := v_low;
      v_revision bigint;
    begin
      if not v_fresh then
        select coalesce(max(e.position) + 1, v_low) into v_first from ${events} e
          where e.position >= v_low and e.position < v_low + ${sql.lit(EVENTS_PER_TRANSACTION)};
      end if;
      if p_expected = 'any' then
        insert into ${streams} as s (stream_id, category, revision, last_position)
          values (p_stream_id, p_category, v_n - 1, v_first + v_n - 1)
          on conflict (stream_id) do update
            set revision = s.revision + v_n, last_position = v_first + v_n - 1, updated_at = now()
            where s.last_position < v_first
          returning s.revision into v_revision;
      elsif p_expected = 'no_stream' then
        insert into ${streams} (stream_id, category, revision, last_position)
          values (p_stream_id, p_category, v_n - 1, v_first + v_n - 1)
          on conflict (stream_id) do nothing
          returning revision into v_revision;
      elsif p_expected = 'stream_exists' then
        update ${streams} s set revision = s.revision + v_n, last_position = v_first + v_n - 1, updated_at = now()
          where s.stream_id = p_stream_id and s.last_position < v_first
          returning s.revision into v_revision;
      else
        update ${streams} s set revision = s.revision + v_n, last_position = v_first + v_n - 1, updated_at = now()
          where s.stream_id = p_stream_id and s.revision = p_expected_revision and s.last_position < v_first
          returning s.revision into v_revision;
      end if;
      if v_revision is null then
        return;
      end if;
      if v_n = 1 then
        insert into ${events} (position, transaction_id, stream_id, revision, id, type, schema_version, data, metadata)
          values (v_first, v_xid, p_stream_id, v_revision, p_ids[1], p_types[1], p_versions[1], p_data[1], p_metadata[1]);
      else
        insert into ${events} (position, transaction_id, stream_id, revision, id, type, schema_version, data, metadata)
          select v_first + i.ord - 1, v_xid, p_stream_id, v_revision - v_n + i.ord,
            i.id, i.type, i.schema_version, i.data, i.metadata
          from unnest(p_ids, p_types, p_versions, p_data, p_metadata)
            with ordinality as i(id, type, schema_version, data, metadata, ord);
      end if;
      if p_channel is not null then
        perform pg_notify(p_channel, '');
      end if;
      r_revision := v_revision;
      r_first_position := v_first;
      r_last_position := v_first + v_n - 1;
      return next;
    end
    $$`;
}

/**
 * The whole append as ONE statement, so a batch costs one round trip: a call of the schema's
 * `annals_append` function ({@link appendFunction}, installed by migration 0004), whose statements
 * keep their plans for the session; on a pool the store owns the call itself is a named prepared
 * statement ({@link PREPARED_STATEMENT_MARKER}).
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
  /** Per event, its tags as a text[] literal (see {@link tagListLiteral}), or null when it has none. */
  readonly tagLists: (string | null)[];
}

/** Splits a prepared batch into one array per column. */
export function toBatchArrays(batch: readonly PreparedEvent[]): BatchArrays {
  const arrays: BatchArrays = { ids: [], types: [], versions: [], data: [], metadata: [], tagLists: [] };
  for (const event of batch) {
    arrays.ids.push(event.id);
    arrays.types.push(event.type);
    arrays.versions.push(event.schemaVersion);
    arrays.data.push(event.dataJson);
    arrays.metadata.push(event.metadataJson);
    arrays.tagLists.push(event.tags.length === 0 ? null : tagListLiteral(event.tags));
  }
  return arrays;
}

/** `{"a","b\"c"}`: a text[] literal (tags, types), every element quoted, quotes and backslashes escaped. */
export function tagListLiteral(values: readonly string[]): string {
  return `{${values.map((v) => `"${v.replace(/["\\]/g, '\\$&')}"`).join(',')}}`;
}

/** The stream id up to its first `-`, or the whole id: `account-7` -> `account`. */
export function categoryOf(streamId: string): string {
  const dash = streamId.indexOf('-');
  return dash > 0 ? streamId.slice(0, dash) : streamId;
}
