import { createHash } from 'node:crypto';
import type { EventRegistry } from '@annals/core';
import type { CheckedCondition } from '@annals/core/adapter';
import { tagListLiteral } from '../store/append-function.js';

// The advisory lock keys of an append (see docs/dcb.md, "Locking"). Every append takes the ALL key
// shared; the events it writes take their type key and one key per tag, shared; an append condition
// takes, per query item, one key every matching writer takes, exclusive: the item's first tag (a
// match carries every tag of the item), or each of its types when it has no tags, or ALL when it has
// neither. A writer of a matching event and a checker then always meet on one key; a checker waits
// for writers of its tag whatever their type (a wait, never a false refusal: the check is exact).

/** More distinct shared keys than this in one append: it takes the ALL key exclusive instead. */
export const MAX_SHARED_LOCK_KEYS = 64;

/** The keys and modes of one append, sorted by key (every transaction locks in the same order). */
export interface LockKeys {
  readonly keys: string[];
  readonly exclusive: boolean[];
}

/** What the lock keys of written events are made of: stored type and tags. */
export interface TaggedEvent {
  readonly type: string;
  readonly tags: readonly string[];
}

/** The lock keys of writing `events` under `condition` (types of the condition as given; stored types found here). */
export function lockKeys(
  registry: EventRegistry,
  events: readonly TaggedEvent[],
  condition: CheckedCondition | undefined,
): LockKeys {
  const shared = new Set<string>();
  for (const event of events) {
    shared.add(typeKey(event.type));
    for (const tag of event.tags) shared.add(tagKey(tag));
  }
  const modes = new Map<bigint, boolean>();
  if (shared.size > MAX_SHARED_LOCK_KEYS) {
    modes.set(ALL, true);
  } else {
    modes.set(ALL, false);
    for (const key of shared) modes.set(hashKey(key), false);
  }
  for (const item of condition?.query.items ?? []) {
    const tag = item.tags?.[0];
    if (tag !== undefined) modes.set(hashKey(tagKey(tag)), true);
    else if (item.types === undefined) modes.set(ALL, true);
    else for (const type of registry.storedTypesFor(item.types)) modes.set(hashKey(typeKey(type)), true);
  }
  const sorted = [...modes.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return { keys: sorted.map(String), exclusive: sorted.map((key) => modes.get(key)!) };
}

/**
 * The query of a condition as the append function (0012) reads it: per item `[types, tags]`, each a
 * text[] literal (stored types; tags) or null, which the function casts without running a statement.
 */
export function conditionJson(registry: EventRegistry, condition: CheckedCondition): string {
  return JSON.stringify(
    condition.query.items.map((item) => [
      item.types === undefined ? null : tagListLiteral(registry.storedTypesFor(item.types)),
      item.tags === undefined || item.tags.length === 0 ? null : tagListLiteral(item.tags),
    ]),
  );
}

const typeKey = (type: string) => `t\u0000${type}`;
const tagKey = (tag: string) => `g\u0000${tag}`;

/** A signed 64-bit advisory lock key from the first 8 bytes of the key text's SHA-256. */
function hashKey(text: string): bigint {
  return createHash('sha256').update(text).digest().readBigInt64BE(0);
}

const ALL = hashKey('a');
