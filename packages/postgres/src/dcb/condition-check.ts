import { type RawBuilder, sql } from 'kysely';

// The append condition's check inside `annals_append_tagged`: a PL/pgSQL block that reads
// `p_condition` (a JSON array of query items) and `p_after`, and leaves the lowest matching position
// in `v_conflict` (null: no match). Migration 0008 installed the first version, 0012 replaces it.
// Both expect `v_i int4, v_item jsonb, v_types text[], v_tags text[], v_found bigint, v_conflict
// bigint` declared.

/** A version of `annals_append_tagged`: as migration 0008 installed it, or as 0012 replaced it. */
export type TaggedAppendVersion = '0008' | '0012';

/** The check block of `version` for the function in `schema`. */
export function conditionCheckBlock(schema: string, version: TaggedAppendVersion): RawBuilder<unknown> {
  return version === '0008'
    ? sql`for v_item in select * from jsonb_array_elements(p_condition) loop
          ${objectItem}
          v_found := null;
          ${joinedChecks(schema)}
          ${keepLowest}
        end loop;`
    : sql`for v_i in 0 .. jsonb_array_length(p_condition) - 1 loop
          v_item := p_condition -> v_i;
          -- An item is [types, tags], each a text[] literal or null (see conditionJson): plain
          -- expressions, no statement. An object { types, tags } is an item from the 0008 caller.
          if jsonb_typeof(v_item) = 'array' then
            v_types := (v_item ->> 0)::text[];
            v_tags := (v_item ->> 1)::text[];
          else
            ${objectItem}
          end if;
          v_found := null;
          ${indexedChecks(schema)}
          ${keepLowest}
        end loop;`;
}

/** An item as 0008's callers send it: `{ types?: string[], tags?: string[] }`. */
const objectItem = sql`v_types := case when v_item ? 'types'
            then array(select jsonb_array_elements_text(v_item -> 'types')) end;
          v_tags := case when v_item ? 'tags'
            then array(select jsonb_array_elements_text(v_item -> 'tags')) end;`;

const keepLowest = sql`if v_found is not null and (v_conflict is null or v_found < v_conflict) then
            v_conflict := v_found;
          end if;`;

/**
 * Migration 0008: one statement per shape; several tags join `events` for its `tags` array. On a
 * large log the planner prices the join's generic plan high, so every call planned it anew.
 */
function joinedChecks(schema: string): RawBuilder<unknown> {
  const events = sql.id(schema, 'events');
  const eventTags = sql.id(schema, 'event_tags');
  return sql`-- One statement per shape, no "x is null or ...": the plan cache then keeps one generic
          -- plan per statement instead of planning every call again.
          if cardinality(v_tags) = 1 and v_types is not null then
            select t.position into v_found from ${eventTags} t
              where t.tag = v_tags[1] and t.position > p_after and t.type = any(v_types)
              order by t.position limit 1;
          elsif cardinality(v_tags) = 1 then
            select t.position into v_found from ${eventTags} t
              where t.tag = v_tags[1] and t.position > p_after
              order by t.position limit 1;
          elsif cardinality(v_tags) > 1 and v_types is not null then
            select t.position into v_found from ${eventTags} t join ${events} e on e.position = t.position
              where t.tag = v_tags[1] and t.position > p_after and t.type = any(v_types) and e.tags @> v_tags
              order by t.position limit 1;
          elsif cardinality(v_tags) > 1 then
            select t.position into v_found from ${eventTags} t join ${events} e on e.position = t.position
              where t.tag = v_tags[1] and t.position > p_after and e.tags @> v_tags
              order by t.position limit 1;
          elsif v_types is not null then
            select e.position into v_found from ${events} e
              where e.type = any(v_types) and e.position > p_after
              order by e.position limit 1;
          else
            select e.position into v_found from ${events} e where e.position > p_after
              order by e.position limit 1;
          end if;`;
}

/**
 * Migration 0012: every shape walks one B-tree in position order and stops at the first match, a
 * plan whose generic form costs what a custom one does, so the plan cache keeps it whatever the size
 * of the log. Tags: `event_tags (tag, position)` on the item's first tag, the other tags checked on
 * the candidate's `events.tags` (a lookup by primary key, only for candidates). Types alone:
 * `events (type, position)` once per type, the lowest position kept.
 */
function indexedChecks(schema: string): RawBuilder<unknown> {
  const events = sql.id(schema, 'events');
  const eventTags = sql.id(schema, 'event_tags');
  return sql`if cardinality(v_tags) = 1 and v_types is not null then
            select t.position into v_found from ${eventTags} t
              where t.tag = v_tags[1] and t.position > p_after and t.type = any(v_types)
              order by t.position limit 1;
          elsif cardinality(v_tags) = 1 then
            select t.position into v_found from ${eventTags} t
              where t.tag = v_tags[1] and t.position > p_after
              order by t.position limit 1;
          elsif cardinality(v_tags) > 1 and v_types is not null then
            select t.position into v_found from ${eventTags} t
              where t.tag = v_tags[1] and t.position > p_after and t.type = any(v_types)
                and (select e.tags from ${events} e where e.position = t.position) @> v_tags
              order by t.position limit 1;
          elsif cardinality(v_tags) > 1 then
            select t.position into v_found from ${eventTags} t
              where t.tag = v_tags[1] and t.position > p_after
                and (select e.tags from ${events} e where e.position = t.position) @> v_tags
              order by t.position limit 1;
          elsif v_types is not null then
            select min(f.position) into v_found from unnest(v_types) as y(type)
              cross join lateral (select e.position from ${events} e
                where e.type = y.type and e.position > p_after order by e.position limit 1) f;
          else
            select e.position into v_found from ${events} e where e.position > p_after
              order by e.position limit 1;
          end if;`;
}
