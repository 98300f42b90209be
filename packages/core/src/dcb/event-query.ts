import { InvalidArgument } from '../errors/store-errors.js';
import { describeLoneSurrogate, loneSurrogate } from '../events/well-formed-text.js';
import { assertTag } from './tags.js';

/**
 * One item of an {@link EventQuery}: an event matches when its type (after upcasting) is one of
 * `types` (any type when left out) AND it carries every tag of `tags` (no tag needed when left out).
 * An item with neither matches every event.
 */
export interface EventQueryItem {
  readonly types?: readonly string[];
  readonly tags?: readonly string[];
}

/**
 * Selects events by type and tags (the dcb.events query): an event matches when it matches at least
 * one item. Read one with `readAll({ query })`, follow one with `subscribeToAll({ query })`, or
 * protect a decision with it as an append condition's `failIfEventsMatch`.
 *
 * @example
 * ```ts
 * const query: EventQuery = { items: [{ types: ['StudentSubscribed'], tags: ['course:c1'] }] };
 * ```
 */
export interface EventQuery {
  readonly items: readonly EventQueryItem[];
}

/** What a query looks at of an event: its type (after upcasting) and its tags. */
export interface Taggable {
  readonly type: string;
  readonly tags: readonly string[];
}

/**
 * Throws `InvalidArgument` unless `query` is an {@link EventQuery} of at least one item whose `types`
 * are non-empty strings without NUL or lone surrogates and whose tags are valid (see `assertTag`).
 * `name` is the option's name for the message. Returns the query.
 */
export function assertEventQuery(query: unknown, name = 'query'): EventQuery {
  if (typeof query !== 'object' || query === null || !Array.isArray((query as EventQuery).items)) {
    throw new InvalidArgument(
      `${name} must be an object { items: [{ types?, tags? }, ...] }, found ${safeJson(query)}.`,
    );
  }
  const { items } = query as EventQuery;
  if (items.length === 0) {
    throw new InvalidArgument(
      `${name}.items must hold at least one item (an item {} matches every event), found an empty array.`,
    );
  }
  for (const [index, item] of items.entries()) {
    const where = `${name}.items[${index}]`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      throw new InvalidArgument(`${where} must be an object { types?, tags? }, found ${safeJson(item)}.`);
    }
    const { types, tags } = item;
    if (types !== undefined) {
      if (!Array.isArray(types) || types.length === 0) {
        throw new InvalidArgument(
          `${where}.types must be a non-empty array of type names (leave it out for any type), found ${safeJson(types)}.`,
        );
      }
      for (const type of types) assertTypeName(type, `${where}.types`);
    }
    if (tags !== undefined) {
      if (!Array.isArray(tags)) {
        throw new InvalidArgument(`${where}.tags must be an array of tags, found ${safeJson(tags)}.`);
      }
      for (const tag of tags) assertTag(tag, `${where}.tags`);
    }
  }
  return query as EventQuery;
}

/** True when `event` matches at least one item of `query`. */
export function matchesQuery(query: EventQuery, event: Taggable): boolean {
  return query.items.some((item) => matchesItem(item, event));
}

/** True when `event` matches `item`: its type is one of the item's types, and it carries all its tags. */
export function matchesItem(item: EventQueryItem, event: Taggable): boolean {
  if (item.types !== undefined && !item.types.includes(event.type)) return false;
  if (item.tags === undefined) return true;
  return item.tags.every((tag) => event.tags.includes(tag));
}

/** The query as short text for messages: `{types: [A], tags: [course:c1]} OR {...}` (cut when long). */
export function describeQuery(query: EventQuery): string {
  const text = query.items
    .map((item) => {
      const parts: string[] = [];
      if (item.types !== undefined) parts.push(`types: ${JSON.stringify(item.types)}`);
      if (item.tags !== undefined) parts.push(`tags: ${JSON.stringify(item.tags)}`);
      return `{${parts.join(', ')}}`;
    })
    .join(' OR ');
  return text.length <= 400 ? text : `${text.slice(0, 400)}... (cut)`;
}

function assertTypeName(type: unknown, where: string): void {
  if (typeof type !== 'string' || type.length === 0) {
    throw new InvalidArgument(`${where} must hold non-empty strings, found ${safeJson(type)}.`);
  }
  if (type.includes('\u0000')) {
    throw new InvalidArgument(
      `${where} must not contain the NUL character (\\u0000); found ${safeJson(type)}.`,
    );
  }
  const surrogate = loneSurrogate(type);
  if (surrogate !== undefined) {
    throw new InvalidArgument(
      `${where} must be well-formed UTF-16 text; found ${describeLoneSurrogate(surrogate)} of ${safeJson(type)}.`,
    );
  }
}

function safeJson(value: unknown): string {
  try {
    const text = JSON.stringify(value, (_key, v) => (typeof v === 'bigint' ? `${v}n` : v));
    return text === undefined ? String(value) : text.length > 200 ? `${text.slice(0, 200)}...` : text;
  } catch {
    return String(value);
  }
}
