import { type AppendResult, IdempotencyConflict, TRACE_CONTEXT_METADATA_KEY } from '@annals/core';
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { AnnalsTables } from '../schema/tables.js';
import type { BatchArrays } from './append-function.js';

/** One row per event of a batch, matched by id against what is stored (for idempotent re-appends). */
interface StoredMatchRow {
  readonly ord: string;
  readonly stream_id: string | null;
  readonly revision: string | null;
  readonly position: string | null;
  readonly same_content: boolean | null;
  /** The stream's current revision (null: no stream), the same on every row. */
  readonly current_revision: string | null;
}

/**
 * Looks up a batch's ids and compares each stored event's content with the batch (jsonb equality,
 * the same tags; metadata apart from the trace context an append records, see `TRACE_CONTEXT_METADATA_KEY`);
 * every row also carries the stream's current revision, which a refused append reports.
 */
function storedMatchStatement(
  schema: string,
  streamId: string,
  arrays: BatchArrays,
): RawBuilder<StoredMatchRow> {
  const events = sql.id(schema, 'events');
  const streams = sql.id(schema, 'streams');
  return sql<StoredMatchRow>`select i.ord::text as ord, e.stream_id, e.revision::text as revision, e.position::text as position,
      (e.type = i.type and e.schema_version = i.schema_version and e.data = i.data and (e.metadata - ${TRACE_CONTEXT_METADATA_KEY}::text) = (i.metadata - ${TRACE_CONTEXT_METADATA_KEY}::text)
        and coalesce(e.tags, '{}') = coalesce(i.tag_list::text[], '{}')) as same_content,
      (select s.revision::text from ${streams} s where s.stream_id = ${streamId}::text) as current_revision
    from ${batchRows(arrays)}
    left join ${events} e on e.id = i.id
    order by i.ord`;
}

/** `unnest(...) with ordinality as i(id, type, schema_version, data, metadata, tag_list, ord)` over a batch. */
function batchRows(arrays: BatchArrays): RawBuilder<unknown> {
  return sql`unnest(${arrays.ids}::uuid[], ${arrays.types}::text[], ${arrays.versions}::int4[], ${arrays.data}::jsonb[], ${arrays.metadata}::jsonb[], ${arrays.tagLists}::text[])
    with ordinality as i(id, type, schema_version, data, metadata, tag_list, ord)`;
}

/** What the stored copy of a batch says: the original result (undefined: none stored) and the stream's revision. */
export interface StoredMatch {
  readonly result: AppendResult | undefined;
  readonly actual: bigint | 'no_stream';
}

/**
 * Matches a batch against what is stored, in one statement. When every id of the batch is stored, in
 * `streamId`, consecutively and with the same content: the original result. When none is stored:
 * undefined. Otherwise: `IdempotencyConflict`. Also returns the stream's current revision.
 */
export async function storedMatch(
  db: Kysely<AnnalsTables>,
  schema: string,
  streamId: string,
  arrays: BatchArrays,
): Promise<StoredMatch> {
  const rows = (await storedMatchStatement(schema, streamId, arrays).execute(db)).rows;
  const current = rows[0]?.current_revision ?? null;
  const actual = current === null ? 'no_stream' : BigInt(current);
  if (rows.every((r) => r.position === null)) return { result: undefined, actual };
  const first = rows[0]!;
  for (const [i, row] of rows.entries()) {
    const id = arrays.ids[i]!;
    if (row.position === null) {
      throw new IdempotencyConflict(
        arrays.ids[rows.findIndex((r) => r.position !== null)]!,
        'while other events of the same batch are not; re-append the original batch unchanged',
      );
    }
    const consecutive =
      first.revision !== null && BigInt(row.revision!) === BigInt(first.revision) + BigInt(i);
    if (row.stream_id !== streamId || row.same_content !== true || !consecutive) {
      throw new IdempotencyConflict(
        id,
        `in stream ${row.stream_id} at revision ${row.revision} with other content or batch`,
      );
    }
  }
  const last = rows[rows.length - 1]!;
  const result = {
    nextExpectedRevision: BigInt(last.revision!),
    firstPosition: BigInt(first.position!),
    lastPosition: BigInt(last.position!),
  };
  return { result, actual };
}

/** The stream's current revision, or `'no_stream'`. */
export async function currentRevision(
  db: Kysely<AnnalsTables>,
  streamId: string,
): Promise<bigint | 'no_stream'> {
  const row = await db
    .selectFrom('streams')
    .select(sql<string>`revision::text`.as('revision'))
    .where('stream_id', '=', streamId)
    .executeTakeFirst();
  return row === undefined ? 'no_stream' : BigInt(row.revision);
}
