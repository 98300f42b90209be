import type { EventQuery, EventRegistry } from '@annals/core';
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { AnnalsTables } from '../schema/tables.js';

/** An {@link EventQuery} with, per item, the stored types that may decode to its types. */
export interface StoredQuery {
  readonly query: EventQuery;
  readonly items: readonly { readonly storedTypes?: readonly string[]; readonly tags?: readonly string[] }[];
}

/** The query with each item's stored types (renames included; the exact check runs after decoding). */
export function storedQuery(registry: EventRegistry, query: EventQuery): StoredQuery {
  return {
    query,
    items: query.items.map((item) => ({
      ...(item.types === undefined ? {} : { storedTypes: registry.storedTypesFor(item.types) }),
      ...(item.tags === undefined || item.tags.length === 0 ? {} : { tags: item.tags }),
    })),
  };
}

/** The SQL condition on an `events` row: at least one item's stored types and all of its tags. */
export function queryPredicate(query: StoredQuery): RawBuilder<boolean> {
  const items = query.items.map((item) => {
    const parts: RawBuilder<boolean>[] = [];
    if (item.storedTypes !== undefined) parts.push(sql<boolean>`type = any(${item.storedTypes}::text[])`);
    if (item.tags !== undefined) parts.push(sql<boolean>`tags @> ${item.tags}::text[]`);
    return parts.length === 0 ? sql<boolean>`true` : sql<boolean>`(${sql.join(parts, sql` and `)})`;
  });
  return sql<boolean>`(${sql.join(items, sql` or `)})`;
}

/**
 * The positions from `cursor` (inclusive) of the first `limit` events that may match `query`, found
 * through the indexes rather than by scanning the log: an item with tags walks `event_tags` by its
 * first tag in position order (its other tags and its types checked on the way), an item with types
 * only walks `events (type, position)`. Each item gives at most `limit` positions, so the first
 * `limit` of their union are the first `limit` matching positions. The cost follows the events the
 * query matches, not the length of the log. Filter the rows with {@link queryPredicate} as well.
 */
export function queryPositions(
  db: Kysely<AnnalsTables>,
  query: StoredQuery,
  cursor: bigint,
  limit: number,
): RawBuilder<string[]> {
  const from = String(cursor);
  const branches = query.items.map((item, i) => {
    const [first, ...rest] = item.tags ?? [];
    if (first === undefined) {
      let events = db.selectFrom('events').select('position').where('position', '>=', from);
      if (item.storedTypes !== undefined) {
        events = events.where(sql<boolean>`type = any(${item.storedTypes}::text[])`);
      }
      return db.selectFrom(events.orderBy('position').limit(limit).as(`q${i}`)).select(`q${i}.position`);
    }
    let tagged = db
      .selectFrom('event_tags as t')
      .select('t.position')
      .where('t.tag', '=', first)
      .where('t.position', '>=', from);
    if (item.storedTypes !== undefined) {
      tagged = tagged.where(sql<boolean>`t.type = any(${item.storedTypes}::text[])`);
    }
    if (rest.length > 0) {
      tagged = tagged.where(({ exists, selectFrom }) =>
        exists(
          selectFrom('events as e')
            .select(sql`1`.as('one'))
            .whereRef('e.position', '=', 't.position')
            .where(sql<boolean>`e.tags @> ${rest}::text[]`),
        ),
      );
    }
    return db.selectFrom(tagged.orderBy('t.position').limit(limit).as(`q${i}`)).select(`q${i}.position`);
  });
  const union = branches.slice(1).reduce((all, branch) => all.union(branch), branches[0]!);
  return sql<string[]>`array(${union})`;
}
