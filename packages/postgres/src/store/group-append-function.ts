import { type RawBuilder, sql } from 'kysely';
import { PREPARED_STATEMENT_MARKER } from '../connection/postgres-connection.js';
import type { LockKeys } from '../dcb/lock-keys.js';
import type { TagArrays } from '../dcb/tagged-append-statement.js';
import { type BatchArrays, categoryOf } from './append-function.js';
import type { GroupMember } from './group-commit.js';

// `annals_append_group`: several autocommit appends to different streams in ONE statement and one
// transaction (group commit, see group-commit.ts), installed by migration 0013.

/**
 * `annals_append_group(...)`: the appends of a group, flattened into arrays (member `i` owns
 * `p_counts[i]` events and `p_tag_counts[i]` tags, in member order).
 *
 * 1. The advisory locks of every member, sorted, taken first: like a single append, the transaction
 *    gets its id only after every lock it waited for (see `annals_append_tagged`).
 * 2. Each member runs `annals_append_tagged` (no locks left to take, no condition, no notification),
 *    which continues this transaction's positions after the members before it.
 * 3. One row per member that wrote (`r_member`, 1-based); a member without a row wrote nothing (its
 *    expected revision failed, or a newer transaction took its stream first) and fails alone.
 *
 * Any error fails the whole statement, so nothing of the group is written; the caller then runs each
 * member on its own.
 */
export function groupAppendFunction(schema: string): RawBuilder<unknown> {
  const tagged = sql.id(schema, 'annals_append_tagged');
  return sql`create function ${sql.id(schema, 'annals_append_group')}(
      p_stream_ids text[], p_categories text[], p_expected text[], p_expected_revisions bigint[],
      p_counts int4[], p_tag_counts int4[],
      p_ids uuid[], p_types text[], p_versions int4[], p_data jsonb[], p_metadata jsonb[],
      p_tag_lists text[], p_tags text[], p_tag_events int4[],
      p_lock_keys bigint[], p_lock_exclusive boolean[])
    returns table (r_member int4, r_revision bigint, r_first_position bigint, r_last_position bigint)
    language plpgsql volatile as $$
    declare
      v_event int4 := 1;
      v_tag int4 := 1;
      v_last int4;
      v_last_tag int4;
      v_row record;
    begin
      perform case when l.x then pg_advisory_xact_lock(l.k) else pg_advisory_xact_lock_shared(l.k) end
        from unnest(p_lock_keys, p_lock_exclusive) as l(k, x);
      for i in 1 .. cardinality(p_stream_ids) loop
        v_last := v_event + p_counts[i] - 1;
        v_last_tag := v_tag + p_tag_counts[i] - 1;
        select * into v_row from ${tagged}(p_stream_ids[i], p_categories[i], p_expected[i],
          p_expected_revisions[i], p_ids[v_event:v_last], p_types[v_event:v_last],
          p_versions[v_event:v_last], p_data[v_event:v_last], p_metadata[v_event:v_last],
          p_tag_lists[v_event:v_last], coalesce(p_tags[v_tag:v_last_tag], '{}'),
          coalesce(p_tag_events[v_tag:v_last_tag], '{}'), null, '{}', '{}', null, -1, null);
        if found then
          r_member := i;
          r_revision := v_row.r_revision;
          r_first_position := v_row.r_first_position;
          r_last_position := v_row.r_last_position;
          return next;
        end if;
        v_event := v_last + 1;
        v_tag := v_last_tag + 1;
      end loop;
    end
    $$`;
}

/** The row of a member of a group that wrote its batch. */
export interface GroupAppendRow {
  readonly member: number;
  readonly revision: string;
  readonly first_position: string;
  readonly last_position: string;
}

/** The call of `annals_append_group` for `members` (a named prepared statement on a pool the store owns). */
export function groupAppendStatement(
  schema: string,
  members: readonly GroupMember[],
): RawBuilder<GroupAppendRow> {
  const flat = {
    streams: [] as string[],
    categories: [] as string[],
    kinds: [] as string[],
    revisions: [] as (string | null)[],
    counts: [] as number[],
    tagCounts: [] as number[],
  };
  const arrays: BatchArrays = { ids: [], types: [], versions: [], data: [], metadata: [], tagLists: [] };
  const tags: TagArrays = { tags: [], tagEvents: [] };
  for (const member of members) {
    const { expected } = member;
    flat.streams.push(member.streamId);
    flat.categories.push(categoryOf(member.streamId));
    flat.kinds.push(typeof expected === 'bigint' ? 'revision' : expected);
    flat.revisions.push(typeof expected === 'bigint' ? String(expected) : null);
    flat.counts.push(member.arrays.ids.length);
    flat.tagCounts.push(member.tags.tags.length);
    for (const key of Object.keys(arrays) as (keyof BatchArrays)[]) {
      (arrays[key] as unknown[]).push(...member.arrays[key]);
    }
    tags.tags.push(...member.tags.tags);
    tags.tagEvents.push(...member.tags.tagEvents);
  }
  const locks = unionOfLocks(members.map((m) => m.locks));
  return sql<GroupAppendRow>`${sql.raw(PREPARED_STATEMENT_MARKER)} select r_member as member, r_revision::text as revision,
      r_first_position::text as first_position, r_last_position::text as last_position
    from ${sql.id(schema, 'annals_append_group')}(${flat.streams}::text[], ${flat.categories}::text[],
      ${flat.kinds}::text[], ${flat.revisions}::bigint[], ${flat.counts}::int4[], ${flat.tagCounts}::int4[],
      ${arrays.ids}::uuid[], ${arrays.types}::text[], ${arrays.versions}::int4[], ${arrays.data}::jsonb[],
      ${arrays.metadata}::jsonb[], ${arrays.tagLists}::text[], ${tags.tags}::text[], ${tags.tagEvents}::int4[],
      ${locks.keys}::bigint[], ${locks.exclusive}::boolean[])`;
}

/** Every member's lock keys once, sorted (all shared: members with an exclusive key are never grouped). */
function unionOfLocks(all: readonly LockKeys[]): LockKeys {
  const keys = new Set<bigint>();
  for (const locks of all) for (const key of locks.keys) keys.add(BigInt(key));
  const sorted = [...keys].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return { keys: sorted.map(String), exclusive: sorted.map(() => false) };
}
