import type { ExpectedRevisionValue } from '@annals/core';
import type { PreparedEvent } from '@annals/core/adapter';
import { type RawBuilder, sql } from 'kysely';
import { PREPARED_STATEMENT_MARKER } from '../connection/postgres-connection.js';
import { type BatchArrays, categoryOf } from '../store/append-function.js';
import type { LockKeys } from './lock-keys.js';

/** The tags of a batch as the append function takes them (per event: `BatchArrays.tagLists`). */
export interface TagArrays {
  /** Every tag of the batch, with the 1-based index of its event in `tagEvents`. */
  readonly tags: string[];
  readonly tagEvents: number[];
}

/** Splits a prepared batch's tags into the arrays {@link taggedAppendStatement} takes. */
export function toTagArrays(batch: readonly PreparedEvent[]): TagArrays {
  const arrays: TagArrays = { tags: [], tagEvents: [] };
  for (const [index, { tags }] of batch.entries()) {
    for (const tag of tags) {
      arrays.tags.push(tag);
      arrays.tagEvents.push(index + 1);
    }
  }
  return arrays;
}

/** The row of the tagged append: written (`revision`...), or refused by its condition (`conflict`). */
export interface TaggedAppendRow {
  readonly revision: string | null;
  readonly first_position: string | null;
  readonly last_position: string | null;
  readonly conflict: string | null;
}

/**
 * The whole append as ONE statement: a call of `annals_append_tagged` (migration 0008), a named
 * prepared statement on a pool the store owns. No row: nothing written (a moved revision, or a newer
 * transaction took the stream); a row with `conflict`: the condition failed, nothing written.
 */
export function taggedAppendStatement(args: {
  readonly schema: string;
  readonly streamId: string;
  readonly expected: ExpectedRevisionValue;
  readonly arrays: BatchArrays;
  readonly tags: TagArrays;
  readonly recordedAt: readonly Date[] | undefined;
  readonly locks: LockKeys;
  readonly condition: string | undefined;
  readonly after: bigint | undefined;
  readonly channel: string | undefined;
}): RawBuilder<TaggedAppendRow> {
  const { schema, streamId, expected, arrays, tags, locks } = args;
  const kind = typeof expected === 'bigint' ? 'revision' : expected;
  const revision = typeof expected === 'bigint' ? String(expected) : null;
  const recordedAt = args.recordedAt?.map((d) => d.toISOString()) ?? null;
  return sql<TaggedAppendRow>`${sql.raw(PREPARED_STATEMENT_MARKER)} select r_revision::text as revision,
      r_first_position::text as first_position, r_last_position::text as last_position, r_conflict::text as conflict
    from ${sql.id(schema, 'annals_append_tagged')}(${streamId}::text, ${categoryOf(streamId)}::text, ${kind}::text,
      ${revision}::bigint, ${arrays.ids}::uuid[], ${arrays.types}::text[], ${arrays.versions}::int4[],
      ${arrays.data}::jsonb[], ${arrays.metadata}::jsonb[], ${arrays.tagLists}::text[], ${tags.tags}::text[],
      ${tags.tagEvents}::int4[], ${recordedAt}::timestamptz[], ${locks.keys}::bigint[], ${locks.exclusive}::boolean[],
      ${args.condition ?? null}::jsonb, ${String(args.after ?? -1n)}::bigint, ${args.channel ?? null}::text)`;
}
