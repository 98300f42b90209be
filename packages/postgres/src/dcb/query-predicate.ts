import type { EventQuery, EventRegistry } from '@annals/core';
import { type RawBuilder, sql } from 'kysely';

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
