/**
 * The upcasting conformance cases can fail: each broken store below passes the contract except one
 * upcasting promise, and the case written for that promise must reject it. (test/conformance runs the
 * cases against the real stores.)
 */
import {
  type EventRegistryOptions,
  type EventStore,
  InMemoryEventStore,
  type ReadAllOptions,
  type RecordedEvent,
} from '@annals/core';
import type { StoredEvent } from '@annals/core/adapter';
import { describe, expect, it } from 'vitest';
import { upcastingCases } from '../../packages/testing/src/conformance/upcasting-cases.js';

type Decode = (row: StoredEvent) => RecordedEvent;

/** An in-memory store whose registry's decode is replaced by `wrap(original)`. */
function withDecode(options: EventRegistryOptions, wrap: (decode: Decode) => Decode): InMemoryEventStore {
  const store = new InMemoryEventStore(options);
  const original = store.registry.decode.bind(store.registry);
  Object.defineProperty(store.registry, 'decode', { value: wrap(original) });
  return store;
}

/** Filters readAll by the STORED type, so a renamed event is found by its old name only. */
class FiltersByStoredType extends InMemoryEventStore {
  readonly #storedType = new WeakMap<RecordedEvent, string>();
  constructor(options: EventRegistryOptions) {
    super(options);
    const decode = this.registry.decode.bind(this.registry);
    Object.defineProperty(this.registry, 'decode', {
      value: (row: StoredEvent) => {
        const event = decode(row);
        this.#storedType.set(event, row.type);
        return event;
      },
    });
  }
  override async *readAll(options: ReadAllOptions = {}): AsyncGenerator<RecordedEvent> {
    const types = options.filter?.types;
    const rest = { ...options, filter: { ...options.filter, types: undefined } };
    for await (const event of super.readAll(rest)) {
      if (types === undefined || types.includes(this.#storedType.get(event)!)) yield event;
    }
  }
}

const broken: { name: string; create: (options: EventRegistryOptions) => EventStore; fails: RegExp }[] = [
  {
    name: 'a store whose type filter matches the stored type, not the upcast one',
    create: (options) => new FiltersByStoredType(options),
    fails: /^readAll reads old versions as the current one, and a type filter matches the upcast type/,
  },
  {
    name: 'a store that hands out the raw row when upcasting fails',
    create: (options) =>
      withDecode(options, (decode) => (row) => {
        try {
          return decode(row);
        } catch {
          return Object.freeze({ ...row, tags: row.tags ?? [] });
        }
      }),
    fails: /^an upcaster that produces invalid data fails every read path with UpcastFailed/,
  },
  {
    name: 'a store that writes the upcast event back over the stored row',
    create: (options) =>
      withDecode(options, (decode) => (row) => {
        const event = decode(row);
        Object.assign(row, { type: event.type, schemaVersion: event.schemaVersion, data: event.data });
        return event;
      }),
    fails: /^stored events are never rewritten/,
  },
];

describe('the upcasting conformance cases reject broken stores', () => {
  for (const store of broken) {
    it(store.name, async () => {
      const targeted = upcastingCases.filter((c) => store.fails.test(c.name));
      expect(targeted).toHaveLength(1);
      const opened: EventStore[] = [];
      const context = {
        capabilities: new InMemoryEventStore().capabilities,
        deliveryTimeoutMs: 500,
        async createStore(options: EventRegistryOptions = {}) {
          const created = store.create(options);
          opened.push(created);
          return created;
        },
      };
      try {
        await expect(targeted[0]!.run(context)).rejects.toThrow();
      } finally {
        await Promise.all(opened.map((s) => s.close()));
      }
    });
  }
});
