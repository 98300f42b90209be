import { type RawBuilder, sql } from 'kysely';
import { EVENTS_PER_TRANSACTION } from '../store/append-function.js';
import { conditionCheckBlock, type TaggedAppendVersion } from './condition-check.js';

// `annals_append_tagged`: the append of migration 0008 (its condition check replaced by migration
// 0012). It does what `annals_append` (migration 0004) does and adds tags, advisory locks and the
// append condition, in the same single statement.

/**
 * `annals_append_tagged(...)`: the whole append of one batch, called as one statement.
 *
 * 1. Transaction-scoped advisory locks on `p_lock_keys`, in the (sorted) order given: exclusive for
 *    the keys an append condition reads, shared for the keys of the events written (see
 *    `lock-keys.ts`). They are taken BEFORE the transaction gets its id, so a transaction that waited
 *    for a lock gets a newer id, hence higher positions, than the holder it waited for.
 * 2. The transaction's first free position, as in `annals_append`.
 * 3. `p_condition` not null: at READ COMMITTED each statement of a volatile function takes a new
 *    snapshot, so the check below sees every event committed by a holder of a lock this append waited
 *    for. A matching event after `p_after` returns its position as `r_conflict`, writing nothing.
 *    Its statements depend on `version` (see `condition-check.ts`).
 * 4. The stream row moves forward under the same rules as `annals_append` (expected revision, and the
 *    stream's last event below this transaction's positions); no row returned = nothing written.
 * 5. Events (with their `tags` column) and one `event_tags` row per tag are inserted; `p_channel` not
 *    null: one `pg_notify`.
 */
export function taggedAppendFunction(schema: string, version: TaggedAppendVersion): RawBuilder<unknown> {
  const streams = sql.id(schema, 'streams');
  const events = sql.id(schema, 'events');
  const eventTags = sql.id(schema, 'event_tags');
  // `create or replace` keeps the function's grants (a tenant role's EXECUTE) when 0012 replaces it.
  const create = sql.raw(version === '0008' ? 'create function' : 'create or replace function');
  // 0012: generic plans only, and no sequential scans. The planner prices a generic plan by average
  // selectivity and a custom one by the actual tag, so on a large log it kept planning the check anew
  // on every call (0.1-0.2 ms each). And a session keeps a generic plan: one made while the table was
  // small (a seq scan, say, for the first free position of a transaction that already wrote) stayed
  // in use as the log grew. Every statement here has an index walk; these settings keep it chosen.
  const planCache = sql.raw(
    version === '0008' ? '' : 'set plan_cache_mode = force_generic_plan set enable_seqscan = off',
  );
  // 0012: 'any' on an existing stream is a plain UPDATE; the INSERT ... ON CONFLICT (a speculative
  // insertion first) only when no row moved.
  const anyUpdateFirst =
    version === '0008'
      ? sql``
      : sql`update ${streams} s set revision = s.revision + v_n, last_position = v_first + v_n - 1, updated_at = now()
          where s.stream_id = p_stream_id and s.last_position < v_first
          returning s.revision into v_revision;
        if v_revision is null then`;
  const anyUpdateEnd = version === '0008' ? sql`` : sql`end if;`;
  return sql`${create} ${sql.id(schema, 'annals_append_tagged')}(
      p_stream_id text, p_category text, p_expected text, p_expected_revision bigint,
      p_ids uuid[], p_types text[], p_versions int4[], p_data jsonb[], p_metadata jsonb[],
      p_tag_lists text[], p_tags text[], p_tag_events int4[], p_recorded_at timestamptz[],
      p_lock_keys bigint[], p_lock_exclusive boolean[], p_condition jsonb, p_after bigint, p_channel text)
    returns table (r_revision bigint, r_first_position bigint, r_last_position bigint, r_conflict bigint)
    language plpgsql volatile ${planCache} as $$
    declare
      v_fresh boolean;
      v_xid xid8;
      v_n bigint := cardinality(p_ids);
      v_low bigint;
      v_first bigint;
      v_revision bigint;
      v_conflict bigint;
      v_i int4;
      v_item jsonb;
      v_types text[];
      v_tags text[];
      v_found bigint;
    begin
      -- One statement, in array order (a function scan hands out the rows in order, unsorted).
      perform case when l.x then pg_advisory_xact_lock(l.k) else pg_advisory_xact_lock_shared(l.k) end
        from unnest(p_lock_keys, p_lock_exclusive) as l(k, x);
      v_fresh := pg_current_xact_id_if_assigned() is null;
      v_xid := pg_current_xact_id();
      v_low := v_xid::text::bigint << 20;
      v_first := v_low;
      if not v_fresh then
        select coalesce(max(e.position) + 1, v_low) into v_first from ${events} e
          where e.position >= v_low and e.position < v_low + ${sql.lit(EVENTS_PER_TRANSACTION)};
      end if;
      if p_condition is not null then
        if current_setting('transaction_isolation') <> 'read committed' then
          raise exception 'annals: an append condition needs READ COMMITTED, found %',
            current_setting('transaction_isolation') using errcode = '55000';
        end if;
        ${conditionCheckBlock(schema, version)}
        if v_conflict is not null then
          r_conflict := v_conflict;
          return next;
          return;
        end if;
      end if;
      if p_expected = 'any' then
        ${anyUpdateFirst}
        insert into ${streams} as s (stream_id, category, revision, last_position)
          values (p_stream_id, p_category, v_n - 1, v_first + v_n - 1)
          on conflict (stream_id) do update
            set revision = s.revision + v_n, last_position = v_first + v_n - 1, updated_at = now()
            where s.last_position < v_first
          returning s.revision into v_revision;
        ${anyUpdateEnd}
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
      if v_n = 1 and p_recorded_at is null then
        insert into ${events} (position, transaction_id, stream_id, revision, id, type, schema_version, data, metadata, tags)
          values (v_first, v_xid, p_stream_id, v_revision, p_ids[1], p_types[1], p_versions[1], p_data[1],
            p_metadata[1], p_tag_lists[1]::text[]);
      else
        insert into ${events} (position, transaction_id, stream_id, revision, id, type, schema_version, data, metadata, tags, recorded_at)
          select v_first + i.ord - 1, v_xid, p_stream_id, v_revision - v_n + i.ord,
            i.id, i.type, i.schema_version, i.data, i.metadata, i.tag_list::text[], coalesce(p_recorded_at[i.ord], now())
          from unnest(p_ids, p_types, p_versions, p_data, p_metadata, p_tag_lists)
            with ordinality as i(id, type, schema_version, data, metadata, tag_list, ord);
      end if;
      if cardinality(p_tags) > 0 then
        insert into ${eventTags} (tag, position, type)
          select t.tag, v_first + t.ev - 1, p_types[t.ev] from unnest(p_tags, p_tag_events) as t(tag, ev);
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
