import { createHash } from 'node:crypto';
import {
  type AppendOptions,
  type AppendResult,
  type EventFilter,
  type EventRegistryOptions,
  type EventStore,
  type EventStoreCapabilities,
  EventTooLarge,
  IdempotencyConflict,
  InMemoryEventStore,
  type NewEvent,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type SubscribeToAllOptions,
  type SubscribeToStreamOptions,
  type Subscription,
} from '@annals/core';
import { MAX_STREAM_ID_BYTES } from '@annals/core/adapter';
import {
  type ConformanceCase,
  conformanceEvents,
  eventStoreConformanceCases,
  type PeerFactory,
  runConformanceCase,
  type StoreFactory,
} from '@annals/testing';
import { describe, expect, it } from 'vitest';

/**
 * The suite proves guarantees only if it fails a store that breaks them. Each broken store below wraps
 * the real InMemoryEventStore and breaks one rule; the cases that guard that rule must fail against it
 * (and pass against the real store), while a case about something else still passes, which shows the
 * wrapper itself works.
 */

const cases = eventStoreConformanceCases();

function caseNamed(fragment: string): ConformanceCase {
  const found = cases.filter((c) => c.name.includes(fragment));
  if (found.length !== 1) {
    throw new Error(`Expected exactly one conformance case named like "${fragment}", found ${found.length}.`);
  }
  return found[0]!;
}

/** Passes every call to the real store; the broken stores override one method each. */
class DelegatingStore implements EventStore {
  constructor(protected readonly inner: EventStore) {}
  get capabilities(): EventStoreCapabilities {
    return this.inner.capabilities;
  }
  append(streamId: string, events: readonly NewEvent[], options?: AppendOptions): Promise<AppendResult> {
    return this.inner.append(streamId, events, options);
  }
  readStream(streamId: string, options?: ReadStreamOptions): AsyncIterable<RecordedEvent> {
    return this.inner.readStream(streamId, options);
  }
  readAll(options?: ReadAllOptions): AsyncIterable<RecordedEvent> {
    return this.inner.readAll(options);
  }
  subscribeToStream(streamId: string, options?: SubscribeToStreamOptions): Subscription {
    return this.inner.subscribeToStream(streamId, options);
  }
  subscribeToAll(options?: SubscribeToAllOptions): Subscription {
    return this.inner.subscribeToAll(options);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/** Appends whatever the stream's revision: the optimistic concurrency check is gone. */
class IgnoresExpectedRevision extends DelegatingStore {
  override append(streamId: string, events: readonly NewEvent[], options?: AppendOptions) {
    return this.inner.append(streamId, events, { ...options, expectedRevision: 'any' });
  }
}

/** Writes a batch in two appends: when the second half fails, the first half stays written. */
class WritesHalfABatch extends DelegatingStore {
  override async append(streamId: string, events: readonly NewEvent[], options?: AppendOptions) {
    if (events.length < 2) return this.inner.append(streamId, events, options);
    const half = Math.ceil(events.length / 2);
    const first = await this.inner.append(streamId, events.slice(0, half), options);
    const rest = await this.inner.append(streamId, events.slice(half), {
      ...options,
      expectedRevision: first.nextExpectedRevision,
    });
    return { ...rest, firstPosition: first.firstPosition };
  }
}

/** A subscription whose events pass through `transform`. */
function transformed(
  inner: Subscription,
  transform: (source: AsyncIterable<RecordedEvent>) => AsyncGenerator<RecordedEvent>,
): Subscription {
  return {
    get stopped() {
      return inner.stopped;
    },
    stop: () => inner.stop(),
    [Symbol.asyncIterator]: () => transform(inner)[Symbol.asyncIterator](),
  };
}

/** Breaks both subscription kinds (and so `subscribe`) with the same transform. */
class BrokenSubscriptions extends DelegatingStore {
  constructor(
    inner: EventStore,
    readonly transform: (source: AsyncIterable<RecordedEvent>) => AsyncGenerator<RecordedEvent>,
  ) {
    super(inner);
  }
  override subscribeToStream(streamId: string, options?: SubscribeToStreamOptions) {
    return transformed(this.inner.subscribeToStream(streamId, options), this.transform);
  }
  override subscribeToAll(options?: SubscribeToAllOptions) {
    return transformed(this.inner.subscribeToAll(options), this.transform);
  }
}

/** Delivers every fourth event twice, like a reader that re-reads the last page at the live switch. */
async function* duplicateEveryFourth(source: AsyncIterable<RecordedEvent>) {
  let count = 0;
  for await (const event of source) {
    yield event;
    if (++count % 4 === 0) yield event;
  }
}

/** Loses every fourth event, like a reader that skips a late commit. */
async function* dropEveryFourth(source: AsyncIterable<RecordedEvent>) {
  let count = 0;
  for await (const event of source) {
    if (++count % 4 !== 0) yield event;
  }
}

/** Compares re-appended content as JSON text, so equal data with its keys in another order conflicts. */
class ComparesContentAsText extends DelegatingStore {
  readonly #texts = new Map<string, string>();
  override async append(streamId: string, events: readonly NewEvent[], options?: AppendOptions) {
    for (const event of events) {
      const text = JSON.stringify([event.data, event.metadata ?? {}]);
      const before = event.id === undefined ? undefined : this.#texts.get(event.id);
      if (before !== undefined && before !== text)
        throw new IdempotencyConflict(event.id!, 'with other text');
    }
    const result = await this.inner.append(streamId, events, options);
    for (const event of events) {
      if (event.id !== undefined)
        this.#texts.set(event.id, JSON.stringify([event.data, event.metadata ?? {}]));
    }
    return result;
  }
}

/**
 * Reads the global log with revisions 1 and 2 of each stream trading places (and positions), the way
 * racing writers ordered by transaction id rather than by the stream's lock would leave it: positions
 * still rise along the log, but a stream's later revision comes first.
 */
class ReordersAStreamInTheLog extends DelegatingStore {
  override async *readAll(options?: ReadAllOptions) {
    const events: RecordedEvent[] = [];
    for await (const event of this.inner.readAll(options)) events.push(event);
    const slots = new Map<string, number[]>();
    for (const [i, event] of events.entries()) {
      if (event.revision === 1n || event.revision === 2n) {
        slots.set(event.streamId, [...(slots.get(event.streamId) ?? []), i]);
      }
    }
    for (const [a, b] of slots.values()) {
      if (a === undefined || b === undefined) continue;
      const [first, second] = [events[a]!, events[b]!];
      events[a] = Object.freeze({ ...second, position: first.position });
      events[b] = Object.freeze({ ...first, position: second.position });
    }
    yield* events;
  }
}

/** Returns readAll with neighbours swapped, like ordering by something other than position. */
class ReordersReadAll extends DelegatingStore {
  override async *readAll(options?: ReadAllOptions) {
    let held: RecordedEvent | undefined;
    for await (const event of this.inner.readAll(options)) {
      if (held === undefined) {
        held = event;
      } else {
        yield event;
        yield held;
        held = undefined;
      }
    }
    if (held !== undefined) yield held;
  }
}

/** Hands out mutable copies of stored events from readStream. */
class HandsOutMutableEvents extends DelegatingStore {
  override async *readStream(streamId: string, options?: ReadStreamOptions) {
    for await (const event of this.inner.readStream(streamId, options)) yield structuredClone(event);
  }
}

const LIMIT = 1024;

/** Declares `maxEventBytes`; enforces it only when `enforce` is set. */
class SizeLimitedStore extends DelegatingStore {
  constructor(
    inner: EventStore,
    readonly enforce: boolean,
  ) {
    super(inner);
  }
  override get capabilities(): EventStoreCapabilities {
    return { ...this.inner.capabilities, maxEventBytes: LIMIT };
  }
  override append(streamId: string, events: readonly NewEvent[], options?: AppendOptions) {
    if (this.enforce) {
      for (const event of events) {
        const size =
          Buffer.byteLength(JSON.stringify(event.data ?? null)) +
          Buffer.byteLength(JSON.stringify(event.metadata ?? {}));
        if (size > LIMIT) return Promise.reject(new EventTooLarge(event.type, streamId, size, LIMIT));
      }
    }
    return this.inner.append(streamId, events, options);
  }
}

/** What a database that keeps text as UTF-8 stores: each lone surrogate becomes U+FFFD. */
const asUtf8 = (text: string): string => (text as unknown as { toWellFormed(): string }).toWellFormed();
const filterAsUtf8 = (filter: EventFilter | undefined): EventFilter | undefined =>
  filter === undefined
    ? undefined
    : {
        ...(filter.types === undefined ? {} : { types: filter.types.map(asUtf8) }),
        ...(filter.streamPrefix === undefined ? {} : { streamPrefix: asUtf8(filter.streamPrefix) }),
      };

/** Passes stream ids, types and filters through UTF-8 without refusing lone surrogates first. */
class StoresTextAsUtf8 extends DelegatingStore {
  override append(streamId: string, events: readonly NewEvent[], options?: AppendOptions) {
    return this.inner.append(
      asUtf8(streamId),
      events.map((e) => ({ ...e, type: asUtf8(e.type) })),
      options,
    );
  }
  override readStream(streamId: string, options?: ReadStreamOptions) {
    return this.inner.readStream(asUtf8(streamId), options);
  }
  override subscribeToStream(streamId: string, options?: SubscribeToStreamOptions) {
    return this.inner.subscribeToStream(asUtf8(streamId), options);
  }
  override readAll(options?: ReadAllOptions) {
    return this.inner.readAll({ ...options, filter: filterAsUtf8(options?.filter) });
  }
  override subscribeToAll(options?: SubscribeToAllOptions) {
    return this.inner.subscribeToAll({ ...options, filter: filterAsUtf8(options?.filter) });
  }
}

/** The btree limit of PostgreSQL: a longer index entry is refused with a raw driver error. */
const BTREE_ENTRY_BYTES = 2704;

/**
 * Sets no stream id limit of its own: an id longer than the documented limit is kept under a digest
 * (so the real store below accepts it), and only the database index refuses a very long one, raw.
 */
class AcceptsLongStreamIds extends DelegatingStore {
  static key(streamId: string): string {
    if (typeof streamId !== 'string' || Buffer.byteLength(streamId) <= MAX_STREAM_ID_BYTES) return streamId;
    if (Buffer.byteLength(streamId) > BTREE_ENTRY_BYTES) {
      throw new Error('index row size exceeds btree version 4 maximum 2704 for index "streams_pkey"');
    }
    return `long-${createHash('sha256').update(streamId).digest('hex')}`;
  }
  override async append(streamId: string, events: readonly NewEvent[], options?: AppendOptions) {
    return this.inner.append(AcceptsLongStreamIds.key(streamId), events, options);
  }
  override readStream(streamId: string, options?: ReadStreamOptions) {
    return this.inner.readStream(AcceptsLongStreamIds.key(streamId), options);
  }
  override subscribeToStream(streamId: string, options?: SubscribeToStreamOptions) {
    return this.inner.subscribeToStream(AcceptsLongStreamIds.key(streamId), options);
  }
}

/** Hands revisions and positions to a bigint column unchecked: past 2^63 - 1 the driver's raw error. */
class OverflowsBigintColumns extends DelegatingStore {
  static check(value: unknown): void {
    if (typeof value === 'bigint' && value > 2n ** 63n - 1n) {
      throw new Error(`value "${value}" is out of range for type bigint`);
    }
  }
  override async append(streamId: string, events: readonly NewEvent[], options?: AppendOptions) {
    OverflowsBigintColumns.check(options?.expectedRevision);
    return this.inner.append(streamId, events, options);
  }
  override async *readStream(streamId: string, options?: ReadStreamOptions) {
    OverflowsBigintColumns.check(options?.fromRevision);
    yield* this.inner.readStream(streamId, options);
  }
  override subscribeToStream(streamId: string, options?: SubscribeToStreamOptions) {
    OverflowsBigintColumns.check(options?.fromRevision);
    return this.inner.subscribeToStream(streamId, options);
  }
  override async *readAll(options?: ReadAllOptions) {
    OverflowsBigintColumns.check(options?.fromPosition);
    yield* this.inner.readAll(options);
  }
  override subscribeToAll(options?: SubscribeToAllOptions) {
    OverflowsBigintColumns.check(options?.fromPosition);
    return this.inner.subscribeToAll(options);
  }
}

const real: StoreFactory = (options: EventRegistryOptions) => new InMemoryEventStore(options);
const wrap =
  (make: (inner: EventStore) => EventStore): StoreFactory =>
  (options) =>
    make(new InMemoryEventStore(options));

/** Short, so a case that waits for an event a broken store never delivers fails fast. */
const deliveryTimeoutMs = 1_000;

async function failureOf(
  conformanceCase: ConformanceCase,
  createStore: StoreFactory,
  capabilities = {},
  openPeer?: PeerFactory,
) {
  return runConformanceCase(conformanceCase, {
    createStore,
    capabilities,
    deliveryTimeoutMs,
    ...(openPeer === undefined ? {} : { openPeer }),
  }).then(
    () => undefined,
    (error: unknown) => error,
  );
}

/** A second handle on the same in-memory store, as another process would see a shared one. */
class SameLogView extends DelegatingStore {
  override async close(): Promise<void> {}
}

interface Breakage {
  readonly store: string;
  /** For stores declaring `multiProcess`: opens the other instance. */
  readonly openPeer?: PeerFactory;
  readonly createStore: StoreFactory;
  readonly capabilities?: Partial<EventStoreCapabilities>;
  /** Fragments of the names of the cases that guard the broken rule: each must fail. */
  readonly guards: readonly string[];
  /** A case about another rule: it must still pass, or the wrapper itself is broken. */
  readonly control: string;
}

const subscriptionGuards = [
  'subscribeToStream delivers the stored events then live ones',
  'subscribeToAll delivers the whole log then live events',
  'subscribeToAll from a position starts at that event',
  'subscribeToAll with a types and/or streamPrefix filter',
  "subscribe delivers the stream's history then live events",
];

const breakages: readonly Breakage[] = [
  {
    store: 'a store that ignores expectedRevision',
    createStore: wrap((inner) => new IgnoresExpectedRevision(inner)),
    guards: [
      "'no_stream' creates a stream, and on an existing stream raises ConcurrencyConflict",
      "'stream_exists' on a missing stream raises ConcurrencyConflict",
      'an exact bigint revision appends when it is the last revision',
      'an exact revision given as a number behaves like the bigint',
      'a ConcurrencyConflict is recognised by isConcurrencyConflict',
      'exactly one wins each revision',
    ],
    control: 'reads backwards from the last event',
  },
  {
    store: 'a store that writes half a batch before failing',
    createStore: wrap((inner) => new WritesHalfABatch(inner)),
    guards: [
      'a batch with one invalid event writes nothing',
      'a failing batch on a new stream does not create the stream',
      'a strict store refuses an undefined event type with UnknownEventType and writes nothing of its batch',
      'an event whose id is not a UUID is refused',
      'a batch that contains the same id twice is refused',
    ],
    control: 'reads every event of every stream once, in append order',
  },
  {
    store: 'a store whose subscriptions deliver duplicates',
    createStore: wrap((inner) => new BrokenSubscriptions(inner, duplicateEveryFourth)),
    guards: subscriptionGuards,
    control: 'concurrent first appends to distinct streams all succeed',
  },
  {
    store: 'a store whose subscriptions drop events',
    createStore: wrap((inner) => new BrokenSubscriptions(inner, dropEveryFourth)),
    guards: subscriptionGuards,
    control: 'a batch with one invalid event writes nothing',
  },
  {
    store: 'a store that re-orders readAll',
    createStore: wrap((inner) => new ReordersReadAll(inner)),
    guards: [
      'reads every event of every stream once, in append order',
      'a reader paging through readAll while many writers commit',
      'revisions are gapless per stream and positions strictly increase',
    ],
    control: 'reads backwards from the last event',
  },
  {
    store: "a store whose global log puts a stream's later revision before its earlier one",
    createStore: wrap((inner) => new ReordersAStreamInTheLog(inner)),
    guards: [
      "a stream's events appear in the global log in revision order",
      'revisions are gapless per stream and positions strictly increase',
    ],
    control: 'exactly one wins each revision',
  },
  {
    store: 'a store that compares re-appended content as JSON text',
    createStore: wrap((inner) => new ComparesContentAsText(inner)),
    guards: ['equal data and metadata in another key order is the same content'],
    control: 'a batch with one invalid event writes nothing',
  },
  {
    store: 'a store that declares multiProcess but whose instances do not share a log',
    createStore: real,
    capabilities: { multiProcess: true },
    openPeer: () => new InMemoryEventStore({ events: conformanceEvents }),
    guards: [
      "an append through one instance is read by another, and wakes the other's live subscriptions",
      'instances racing with the same expected revision: exactly one wins',
    ],
    control: 'reads backwards from the last event',
  },
  {
    store: 'a store that hands out mutable events',
    createStore: wrap((inner) => new HandsOutMutableEvents(inner)),
    guards: ['recorded events are deeply frozen on every read path'],
    control: 'exactly one wins each revision',
  },
  {
    store: 'a store that keeps text as UTF-8 without refusing lone surrogates (two ids become one)',
    createStore: wrap((inner) => new StoresTextAsUtf8(inner)),
    guards: ['a stream id, type or filter that is not well-formed UTF-16 (a lone surrogate)'],
    control: 'reads backwards from the last event',
  },
  {
    store: 'a store without the stream id length limit (only its index refuses, raw, past 2704 bytes)',
    createStore: wrap((inner) => new AcceptsLongStreamIds(inner)),
    guards: ['a stream id of up to MAX_STREAM_ID_BYTES'],
    control: 'reads backwards from the last event',
  },
  {
    store: 'a store that hands revisions and positions above 2^63 - 1 to a bigint column',
    createStore: wrap((inner) => new OverflowsBigintColumns(inner)),
    guards: [
      'an expected revision above MAX_REVISION',
      'fromRevision above MAX_REVISION',
      'fromPosition above MAX_POSITION',
    ],
    control: 'reads backwards from the last event',
  },
  {
    store: 'a store that stores undefined types by default although it was given definitions',
    createStore: (options) => new InMemoryEventStore({ strict: false, ...options }),
    guards: ['a store given event definitions is strict by default'],
    control: 'a batch with one invalid event writes nothing',
  },
  {
    store: 'a store that declares maxEventBytes without enforcing it',
    createStore: wrap((inner) => new SizeLimitedStore(inner, false)),
    capabilities: { maxEventBytes: LIMIT, appendConditions: true },
    guards: ['an event larger than maxEventBytes', 'maxEventBytes counts data and metadata together'],
    control: 'the store declares the capabilities the suite runs with',
  },
];

describe('the conformance suite itself', () => {
  it('has one case per name, a group on every case, and every group including upcasting', () => {
    const names = cases.map((c) => `${c.group}: ${c.name}`);
    expect(new Set(names).size).toBe(names.length);
    expect(cases.every((c) => c.group.length > 0 && c.name.length > 0)).toBe(true);
    expect([...new Set(cases.map((c) => c.group))]).toEqual(
      expect.arrayContaining([
        'append & expected revision',
        'atomic batches & validation',
        'idempotency',
        'readStream',
        'readAll & filters',
        'ordering',
        'subscriptions',
        'publish/subscribe',
        'close',
        'recorded events',
        'capabilities',
        'upcasting',
      ]),
    );
  });

  for (const breakage of breakages) {
    describe(breakage.store, () => {
      for (const guard of breakage.guards) {
        it(`fails: ${guard}`, async () => {
          const error = await failureOf(
            caseNamed(guard),
            breakage.createStore,
            breakage.capabilities,
            breakage.openPeer,
          );
          expect(error, 'the case should have failed').toBeInstanceOf(Error);
          // A TypeError or ReferenceError would be a bug in the case, not a detected violation.
          expect(error).not.toBeInstanceOf(TypeError);
          expect(error).not.toBeInstanceOf(ReferenceError);
        });
      }
      it(`still passes an unrelated case: ${breakage.control}`, async () => {
        expect(
          await failureOf(
            caseNamed(breakage.control),
            breakage.createStore,
            breakage.capabilities,
            breakage.openPeer,
          ),
        ).toBe(undefined);
      });
    });
  }

  describe('the real InMemoryEventStore', () => {
    const guards = [
      ...new Set(breakages.filter((b) => b.capabilities === undefined).flatMap((b) => b.guards)),
    ];
    for (const guard of guards) {
      it(`passes: ${guard}`, async () => {
        expect(await failureOf(caseNamed(guard), real)).toBe(undefined);
      });
    }
    // Seen through two handles, one store passes the cases for several instances.
    for (const guard of breakages.find((b) => b.openPeer !== undefined)!.guards) {
      it(`passes, through two handles on one store: ${guard}`, async () => {
        const sameLog: PeerFactory = (store) => new SameLogView(store);
        expect(await failureOf(caseNamed(guard), real, { multiProcess: true }, sameLog)).toBe(undefined);
      });
    }
  });

  describe('a store that enforces maxEventBytes', () => {
    it('passes the size-limit case, which the in-memory store (no limit declared) cannot run', async () => {
      const sizeCase = caseNamed('an event larger than maxEventBytes');
      expect(
        await failureOf(
          sizeCase,
          wrap((inner) => new SizeLimitedStore(inner, true)),
          { maxEventBytes: LIMIT },
        ),
      ).toBe(undefined);
      const refused = await failureOf(sizeCase, real);
      expect((refused as Error).message).toContain('needs capabilities');
    });
  });

  describe('runConformanceCase', () => {
    it('closes every store a case created, whether the case passes or fails', async () => {
      const closed: string[] = [];
      const tracked =
        (label: string): StoreFactory =>
        (options) => {
          const store = new InMemoryEventStore(options);
          const close = store.close.bind(store);
          store.close = async () => {
            closed.push(label);
            await close();
          };
          return store;
        };
      const failing: ConformanceCase = {
        group: 'self-test',
        name: 'creates two stores, closes one itself, then fails',
        async run(ctx) {
          await ctx.createStore();
          const second = await ctx.createStore();
          await second.close();
          throw new Error('deliberate failure');
        },
      };
      await expect(runConformanceCase(failing, { createStore: tracked('failing') })).rejects.toThrow(
        'deliberate failure',
      );
      expect(closed).toEqual(['failing', 'failing', 'failing']);

      closed.length = 0;
      const passing: ConformanceCase = { ...failing, run: async (ctx) => void (await ctx.createStore()) };
      await runConformanceCase(passing, { createStore: tracked('passing') });
      expect(closed).toEqual(['passing']);
    });

    it('fails a passing case when a store cannot be closed', async () => {
      const failingClose: StoreFactory = (options) => {
        const store = new InMemoryEventStore(options);
        store.close = () => Promise.reject(new Error('disk on fire'));
        return store;
      };
      const passing: ConformanceCase = {
        group: 'self-test',
        name: 'creates a store',
        run: async (ctx) => void (await ctx.createStore()),
      };
      await expect(runConformanceCase(passing, { createStore: failingClose })).rejects.toThrow(
        'disk on fire',
      );
    });
  });
});
