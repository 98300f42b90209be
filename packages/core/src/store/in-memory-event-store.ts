import { isDeepStrictEqual } from 'node:util';
import { IdempotencyConflict, InvalidArgument, StoreClosed, StreamNotFound } from '../errors/store-errors.js';
import { deepFreeze } from '../events/deep-freeze.js';
import type { PreparedEvent } from '../events/event-preparation.js';
import { EventRegistry, type EventRegistryOptions } from '../events/event-registry.js';
import type { EventMetadata, NewEvent, RecordedEvent, StoredEvent } from '../events/event-types.js';
import { assertStreamId } from '../events/stream-id-check.js';
import { frozenValues } from '../events/validated-event.js';
import { traceAppend } from '../observability/append-telemetry.js';
import type { Logger } from '../observability/logger.js';
import { withoutTraceContext } from '../observability/trace-context.js';
import { ChangeNotifier } from './change-notifier.js';
import { drainSubscriptions, drainTimeoutOf } from './close-options.js';
import type {
  AppendOptions,
  AppendResult,
  CloseOptions,
  EventFilter,
  EventStore,
  EventStoreCapabilities,
  ReadAllOptions,
  ReadStreamOptions,
  SubscribeToAllOptions,
  SubscribeToStreamOptions,
} from './event-store.js';
import { defaultCapabilities } from './event-store.js';
import { EventStoreBase } from './event-store-base.js';
import {
  assertEventFilter,
  assertExpectedRevision,
  normalizeExpectedRevision,
  toBigIntOption,
  toMaxCount,
} from './expected-revision.js';
import { importedRecordedAt } from './imported-recorded-at.js';
import { type PullPage, PullSubscription, type Subscription } from './subscription.js';

/**
 * @internal The events of a stream as a synchronous iterable, when `store` is an
 * {@link InMemoryEventStore} whose `readStream` is its own (not overridden): what `readStream` yields,
 * without an async step per event. Undefined for any other store. Repositories load through it.
 */
export let readStreamSync: (
  store: EventStore,
  streamId: string,
  options?: ReadStreamOptions,
) => Iterable<RecordedEvent> | undefined;

/** Options of {@link InMemoryEventStore}. */
export interface InMemoryEventStoreOptions extends Omit<EventRegistryOptions, 'events'> {
  /** Event definitions (or a shared {@link EventRegistry}). */
  readonly events?: EventRegistryOptions['events'] | EventRegistry;
  /** Page size of subscriptions' reads. Default 500. */
  readonly pageSize?: number;
  /** Where the store logs (a failing `subscribe` callback without `onError`). Default `consoleLogger`. */
  readonly logger?: Logger;
}

/**
 * An {@link EventStore} in process memory. Same contract and guarantees as the database stores (it
 * passes the same conformance suite); data lives as long as the object. Use it in tests, in examples
 * and wherever durability is not needed.
 *
 * @example
 * ```ts
 * const store = new InMemoryEventStore({ events: [MoneyDeposited] }); // refuses undefined types
 * await store.append('account-1', [MoneyDeposited.create({ ... })], { expectedRevision: 'no_stream' });
 * ```
 */
export class InMemoryEventStore extends EventStoreBase {
  readonly capabilities: EventStoreCapabilities = defaultCapabilities;
  /** The definitions and upcasters this store validates and upcasts with. */
  readonly registry: EventRegistry;
  readonly #log: StoredEvent[] = [];
  readonly #streams = new Map<string, StoredEvent[]>();
  readonly #byId = new Map<string, StoredEvent>();
  readonly #notifier = new ChangeNotifier();
  readonly #subscriptions = new Set<PullSubscription<RecordedEvent>>();
  readonly #pageSize: number;
  #closed = false;
  #closing: Promise<void> | undefined;

  static {
    readStreamSync = (store, streamId, options = {}) =>
      #streams in store && store.readStream === InMemoryEventStore.prototype.readStream
        ? (store as InMemoryEventStore).#streamEvents(streamId, options)
        : undefined;
  }

  constructor(options: InMemoryEventStoreOptions = {}) {
    super(options.logger === undefined ? {} : { logger: options.logger });
    this.registry = EventRegistry.from(options as EventRegistryOptions);
    this.#pageSize = options.pageSize ?? 500;
  }

  append(streamId: string, events: readonly NewEvent[], options: AppendOptions = {}): Promise<AppendResult> {
    return traceAppend(streamId, events, options, (batch) => this.#append(streamId, batch, options));
  }

  async #append(
    streamId: string,
    events: readonly NewEvent[],
    options: AppendOptions,
  ): Promise<AppendResult> {
    this.#assertOpen();
    const expected = normalizeExpectedRevision(streamId, options.expectedRevision);
    const prepared = this.registry.prepare(streamId, events, { import: options.import === true });
    if (prepared.length === 0) {
      throw new InvalidArgument(
        `append to stream ${streamId} needs at least one event, found an empty batch.`,
      );
    }
    const imported = importedRecordedAt(streamId, options, prepared.length);
    const repeated = this.#idempotentResult(streamId, prepared);
    if (repeated !== undefined) return repeated;

    const stream = this.#streams.get(streamId);
    const last = stream === undefined ? 'no_stream' : BigInt(stream.length - 1);
    assertExpectedRevision(streamId, expected, last);

    const target = stream ?? [];
    const recordedAt = new Date();
    const written: StoredEvent[] = [];
    for (const [index, event] of prepared.entries()) {
      // Frozen once, here: every read shares the data and metadata (frozen JSON is kept as it is).
      const frozen = frozenValues(event);
      const stored: StoredEvent = {
        id: event.id,
        type: event.type,
        schemaVersion: event.schemaVersion,
        streamId,
        revision: BigInt(target.length),
        position: BigInt(this.#log.length + 1),
        data: frozen?.data ? event.data : deepFreeze(JSON.parse(event.dataJson)),
        metadata: frozen?.metadata ? event.metadata : deepFreeze(JSON.parse(event.metadataJson)),
        recordedAt: imported?.[index] ?? recordedAt,
      };
      this.#log.push(stored);
      target.push(stored);
      this.#byId.set(stored.id, stored);
      written.push(stored);
    }
    if (stream === undefined) this.#streams.set(streamId, target);
    this.#notifier.notify();
    return {
      nextExpectedRevision: written[written.length - 1]!.revision,
      firstPosition: written[0]!.position,
      lastPosition: written[written.length - 1]!.position,
    };
  }

  #idempotentResult(streamId: string, batch: readonly PreparedEvent[]): AppendResult | undefined {
    if (!batch.some((event) => this.#byId.has(event.id))) return undefined;
    const matches = batch.map((event) => this.#byId.get(event.id));
    const first = matches[0];
    for (const [i, stored] of matches.entries()) {
      const event = batch[i]!;
      if (stored === undefined) {
        throw new IdempotencyConflict(
          matches.find((m) => m !== undefined)!.id,
          'while other events of the same batch are not; re-append the original batch unchanged',
        );
      }
      const sameContent =
        stored.streamId === streamId &&
        stored.type === event.type &&
        stored.schemaVersion === event.schemaVersion &&
        sameJson(stored.data, event.dataJson) &&
        sameMetadata(stored.metadata, event.metadataJson) &&
        stored.revision === first!.revision + BigInt(i);
      if (!sameContent) {
        throw new IdempotencyConflict(
          event.id,
          `in stream ${stored.streamId} at revision ${stored.revision} with other content or batch`,
        );
      }
    }
    const last = matches[matches.length - 1]!;
    return {
      nextExpectedRevision: last.revision,
      firstPosition: first!.position,
      lastPosition: last.position,
    };
  }

  async *readStream(streamId: string, options: ReadStreamOptions = {}): AsyncGenerator<RecordedEvent> {
    for (const event of this.#streamEvents(streamId, options)) yield event;
  }

  *#streamEvents(streamId: string, options: ReadStreamOptions): Generator<RecordedEvent> {
    this.#assertOpen();
    assertStreamId(streamId);
    const from = toBigIntOption('fromRevision', options.fromRevision);
    const max = toMaxCount(options.maxCount);
    const stream = this.#streams.get(streamId);
    if (stream === undefined) throw new StreamNotFound(streamId);
    // Streams only grow: the events up to today's length are the snapshot this read returns.
    const end = stream.length;
    let count = 0;
    if (options.direction === 'backwards') {
      const start = from === undefined ? end - 1 : Math.min(Number(from), end - 1);
      for (let i = start; i >= 0 && count < max; i--, count++) yield this.registry.decode(stream[i]!);
    } else {
      for (let i = Number(from ?? 0n); i < end && count < max; i++, count++) {
        yield this.registry.decode(stream[i]!);
      }
    }
  }

  async *readAll(options: ReadAllOptions = {}): AsyncGenerator<RecordedEvent> {
    this.#assertOpen();
    assertEventFilter(options.filter);
    const from = toBigIntOption('fromPosition', options.fromPosition) ?? 0n;
    const max = toMaxCount(options.maxCount);
    const end = this.#log.length;
    let count = 0;
    for (let i = Math.max(0, Number(from) - 1); i < end && count < max; i++) {
      const event = this.#decodeIfMatching(this.#log[i]!, options.filter);
      if (event === undefined) continue;
      count++;
      yield event;
    }
  }

  subscribeToStream(streamId: string, options: SubscribeToStreamOptions = {}): Subscription {
    this.#assertOpen();
    assertStreamId(streamId);
    let next = Number(toBigIntOption('fromRevision', options.fromRevision) ?? 0n);
    return this.#track(() => {
      const stream = this.#streams.get(streamId) ?? [];
      const page = stream.slice(next, next + this.#pageSize);
      next += page.length;
      return { events: page.map((e) => this.registry.decode(e)), more: next < stream.length };
    });
  }

  subscribeToAll(options: SubscribeToAllOptions = {}): Subscription {
    this.#assertOpen();
    assertEventFilter(options.filter);
    let index = Math.max(0, Number(toBigIntOption('fromPosition', options.fromPosition) ?? 0n) - 1);
    return this.#track(() => {
      const end = Math.min(this.#log.length, index + this.#pageSize);
      const events: RecordedEvent[] = [];
      for (; index < end; index++) {
        const event = this.#decodeIfMatching(this.#log[index]!, options.filter);
        if (event !== undefined) events.push(event);
      }
      return { events, more: index < this.#log.length };
    });
  }

  /**
   * Refuses every further call with `StoreClosed`, lets subscriptions hand out what was appended
   * before (at most `drainTimeoutMs`, default 5000), then stops them. See {@link EventStore.close}.
   */
  async close(options?: CloseOptions): Promise<void> {
    const drainTimeoutMs = drainTimeoutOf(options);
    if (this.#closing === undefined) {
      this.#closed = true;
      this.#closing = drainSubscriptions(this.#subscriptions, drainTimeoutMs);
    }
    return this.#closing;
  }

  #track(read: () => PullPage<RecordedEvent>): Subscription {
    const subscription = new PullSubscription<RecordedEvent>(
      { next: async () => read(), notifier: this.#notifier },
      (sub) => this.#subscriptions.delete(sub),
    );
    this.#subscriptions.add(subscription);
    return subscription;
  }

  #decodeIfMatching(stored: StoredEvent, filter: EventFilter | undefined): RecordedEvent | undefined {
    if (filter?.streamPrefix !== undefined && !stored.streamId.startsWith(filter.streamPrefix))
      return undefined;
    // Filter on the type the event will have after upcasting, before paying for the upcast.
    if (filter?.types !== undefined) {
      const { type } = this.registry.upcastTarget(stored.type, stored.schemaVersion);
      if (!filter.types.includes(type)) return undefined;
    }
    return this.registry.decode(stored);
  }

  #assertOpen(): void {
    if (this.#closed) throw new StoreClosed();
  }
}

/**
 * Whether a stored value and a JSON text are the same JSON value: object keys in any order (as a
 * `jsonb` column compares them), arrays in order. Only a re-append of a stored id asks.
 */
function sameJson(stored: unknown, json: string): boolean {
  return isDeepStrictEqual(stored, JSON.parse(json));
}

/** Whether stored and re-appended metadata agree, apart from the trace context (see `TRACE_CONTEXT_METADATA_KEY`). */
function sameMetadata(stored: EventMetadata, json: string): boolean {
  return isDeepStrictEqual(withoutTraceContext(stored), withoutTraceContext(JSON.parse(json)));
}
