import type { EventRegistry } from '../events/event-registry.js';
import type { StoredEvent } from '../events/event-types.js';
import type { CheckedCondition } from './append-condition.js';
import type { EventQuery, EventQueryItem } from './event-query.js';
import { noTags } from './tags.js';

/**
 * @internal The in-memory store's index of its log by tag and by stored type, so a query or an append
 * condition looks at the events that can match instead of the whole log. Positions are 1-based
 * indexes into the log (position n is `log[n - 1]`).
 */
export class InMemoryTagIndex {
  readonly #byTag = new Map<string, StoredEvent[]>();
  readonly #byType = new Map<string, StoredEvent[]>();
  readonly #registry: EventRegistry;

  constructor(registry: EventRegistry) {
    this.#registry = registry;
  }

  /** Indexes an event just added to the log. */
  add(event: StoredEvent): void {
    push(this.#byType, event.type, event);
    for (const tag of event.tags ?? noTags()) push(this.#byTag, tag, event);
  }

  /** True when `event` matches `query` (its type after upcasting, its stored tags). */
  matches(query: EventQuery, event: StoredEvent): boolean {
    return query.items.some((item) => this.#matchesItem(item, event));
  }

  /** The first event after `condition.after` that matches its query, or undefined. */
  firstConflict(log: readonly StoredEvent[], condition: CheckedCondition): StoredEvent | undefined {
    const after = condition.after ?? 0n;
    let first: StoredEvent | undefined;
    for (const item of condition.query.items) {
      for (const event of this.#candidates(log, item, after)) {
        if (first !== undefined && event.position >= first.position) break;
        if (this.#matchesItem(item, event)) {
          first = event;
          break;
        }
      }
    }
    return first;
  }

  /** The events that may match `item` after position `after`, in log order. */
  *#candidates(log: readonly StoredEvent[], item: EventQueryItem, after: bigint): Iterable<StoredEvent> {
    if (item.tags !== undefined && item.tags.length > 0) {
      // The rarest tag's events: every match carries it.
      let rarest: StoredEvent[] = [];
      for (const [i, tag] of item.tags.entries()) {
        const events = this.#byTag.get(tag) ?? [];
        if (i === 0 || events.length < rarest.length) rarest = events;
      }
      yield* from(rarest, after);
      return;
    }
    if (item.types !== undefined) {
      const lists = this.#registry
        .storedTypesFor(item.types)
        .map((type) => this.#byType.get(type))
        .filter((list) => list !== undefined);
      yield* merged(lists.map((list) => from(list, after)));
      return;
    }
    for (let i = Number(after); i < log.length; i++) yield log[i]!;
  }

  #matchesItem(item: EventQueryItem, event: StoredEvent): boolean {
    if (item.types !== undefined) {
      const { type } = this.#registry.upcastTarget(event.type, event.schemaVersion);
      if (!item.types.includes(type)) return false;
    }
    if (item.tags === undefined) return true;
    const tags = event.tags ?? noTags();
    return item.tags.every((tag) => tags.includes(tag));
  }
}

function push(map: Map<string, StoredEvent[]>, key: string, event: StoredEvent): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [event]);
  else list.push(event);
}

/** The events of a position-ordered list after `after` (binary search for the start). */
function* from(list: readonly StoredEvent[], after: bigint): Iterable<StoredEvent> {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (list[mid]!.position <= after) low = mid + 1;
    else high = mid;
  }
  for (let i = low; i < list.length; i++) yield list[i]!;
}

/** Several position-ordered sequences merged into one, in position order. */
function* merged(sources: Iterable<StoredEvent>[]): Iterable<StoredEvent> {
  const iterators = sources.map((s) => s[Symbol.iterator]());
  const heads = iterators.map((it) => it.next());
  for (;;) {
    let best = -1;
    for (const [i, head] of heads.entries()) {
      if (head.done) continue;
      if (best < 0 || head.value.position < (heads[best]!.value as StoredEvent).position) best = i;
    }
    if (best < 0) return;
    yield heads[best]!.value as StoredEvent;
    heads[best] = iterators[best]!.next();
  }
}
