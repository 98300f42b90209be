import {
  AppendConditionFailed,
  type AppendToStreamsOptions,
  type AppendToStreamsResult,
  type CheckedCondition,
  checkAppendCondition,
  checkStreamWrites,
  type StreamWrite,
} from '../dcb/append-condition.js';
import { InMemoryTagIndex } from '../dcb/in-memory-tag-index.js';
import { toStreamsResult } from '../dcb/streams-result.js';
import type { ExpectedRevisionValue } from '../errors/store-errors.js';
import { IdempotencyConflict, InvalidArgument, StoreClosed, StreamNotFound } from '../errors/store-errors.js';
import { deepFreeze } from '../events/deep-freeze.js';
import type { PreparedEvent } from '../events/event-preparation.js';
import { EventRegistry, type EventRegistryOptions } from '../events/event-registry.js';
import type { NewEvent, RecordedEvent, StoredEvent } from '../events/event-types.js';
import { assertStreamId } from '../events/stream-id-check.js';
import { frozenValues } from '../events/validated-event.js';
import { traceAppend, traceAppendToStreams } from '../observability/append-telemetry.js';
import { withDefaultKeys } from '../personal-data/default-keys.js';
import { InMemoryKeyStore } from '../personal-data/in-memory-key-store.js';
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
import type { InMemoryEventStoreOptions } from './in-memory-event-store-options.js';
import { idempotentResult } from './in-memory-idempotent-result.js';
import { type PullPage, PullSubscription, type Subscription } from './subscription.js';
import { TenantHandles, type TenantScopedStore } from './tenants.js';

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

export type { InMemoryEventStoreOptions } from './in-memory-event-store-options.js';

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
export class InMemoryEventStore extends EventStoreBase implements TenantScopedStore<InMemoryEventStore> {
  readonly capabilities: EventStoreCapabilities = CAPABILITIES;
  /** The tenant this handle is scoped to (see {@link forTenant}), undefined on the store itself. */
  readonly tenantId: string | undefined;
  readonly #tenants: TenantHandles<InMemoryEventStore>;
  /** The definitions and upcasters this store validates and upcasts with. */
  readonly registry: EventRegistry;
  readonly #log: StoredEvent[] = [];
  readonly #streams = new Map<string, StoredEvent[]>();
  readonly #byId = new Map<string, StoredEvent>();
  readonly #notifier = new ChangeNotifier();
  readonly #tags: InMemoryTagIndex;
  readonly #subscriptions = new Set<PullSubscription<RecordedEvent>>();
  readonly #pageSize: number;
  #closed = false;
  #closing: Promise<void> | undefined;

  static {
    readStreamSync = (store, streamId, options = {}) =>
      #streams in store &&
      store.readStream === InMemoryEventStore.prototype.readStream &&
      !store.registry.personalData.enabled
        ? (store as InMemoryEventStore).#streamEvents(streamId, options)
        : undefined;
  }

  constructor(options: InMemoryEventStoreOptions = {}, tenantId?: string) {
    super(options.logger === undefined ? {} : { logger: options.logger });
    this.registry = EventRegistry.from(
      withDefaultKeys(options, () => new InMemoryKeyStore()) as EventRegistryOptions,
    );
    this.#tags = new InMemoryTagIndex(this.registry);
    this.#pageSize = options.pageSize ?? 500;
    this.tenantId = tenantId;
    this.#tenants = new TenantHandles(
      (id) => new InMemoryEventStore({ ...options, events: this.registry }, id),
    );
  }

  /**
   * The handle of one tenant: a log of its own (own positions, streams, subscriptions), sharing
   * this store's definitions; the same object for the same id; closed with this store.
   */
  forTenant(tenantId: string): InMemoryEventStore {
    this.#assertOpen();
    if (this.tenantId !== undefined) {
      throw new InvalidArgument(
        `forTenant is called on a store, found a call on the handle of tenant ${this.tenantId}.`,
      );
    }
    return this.#tenants.get(tenantId);
  }

  append(streamId: string, events: readonly NewEvent[], options: AppendOptions = {}): Promise<AppendResult> {
    return traceAppend(streamId, events, options, (batch) => this.#append(streamId, batch, options));
  }

  /**
   * Appends to several streams at once, all or nothing, each write with its own expected revision,
   * all under one optional append condition (see {@link EventStore.appendToStreams}).
   */
  appendToStreams(
    writes: readonly StreamWrite[],
    options: AppendToStreamsOptions = {},
  ): Promise<AppendToStreamsResult> {
    return traceAppendToStreams(writes, (stamped) => this.#appendToStreams(stamped, options));
  }

  async #appendToStreams(
    writes: readonly StreamWrite[],
    options: AppendToStreamsOptions,
  ): Promise<AppendToStreamsResult> {
    this.#assertOpen();
    checkStreamWrites(writes);
    const condition = checkAppendCondition(options.condition);
    const plans = await Promise.all(
      writes.map((w) => this.#plan(w.streamId, w.events, { expectedRevision: w.expectedRevision ?? 'any' })),
    );
    this.#assertOpen();
    const repeated = plans.map((plan) => idempotentResult(this.#byId, plan.streamId, plan.prepared));
    if (repeated.every((r) => r !== undefined)) return toStreamsResult(plans, repeated);
    const stored = repeated.findIndex((r) => r !== undefined);
    if (stored >= 0) {
      throw new IdempotencyConflict(
        plans[stored]!.prepared[0]!.id,
        'while the events of other streams of the same call are not; re-append the original call unchanged',
      );
    }
    if (condition !== undefined) this.#assertCondition(condition);
    for (const plan of plans) this.#assertRevision(plan);
    const recordedAt = new Date();
    const results = plans.map((plan) => this.#write(plan, recordedAt));
    this.#notifier.notify();
    return toStreamsResult(plans, results);
  }

  async #append(
    streamId: string,
    events: readonly NewEvent[],
    options: AppendOptions,
  ): Promise<AppendResult> {
    this.#assertOpen();
    const condition = checkAppendCondition(options.condition);
    const plan = await this.#plan(streamId, events, options);
    const repeated = idempotentResult(this.#byId, streamId, plan.prepared);
    if (repeated !== undefined) return repeated;
    if (condition !== undefined) this.#assertCondition(condition);
    this.#assertRevision(plan);
    const result = this.#write(plan, new Date());
    this.#notifier.notify();
    return result;
  }

  /** Checks one stream's batch and options; throws before anything is written. */
  async #plan(streamId: string, events: readonly NewEvent[], options: AppendOptions): Promise<WritePlan> {
    const expected = normalizeExpectedRevision(streamId, options.expectedRevision);
    const checked = this.registry.prepare(streamId, events, { import: options.import === true });
    const prepared = await this.registry.personalData.seal(streamId, checked);
    this.#assertOpen();
    if (prepared.length === 0) {
      throw new InvalidArgument(
        `append to stream ${streamId} needs at least one event, found an empty batch.`,
      );
    }
    const imported = importedRecordedAt(streamId, options, prepared.length);
    return { streamId, expected, prepared, imported };
  }

  #assertRevision(plan: WritePlan): void {
    const stream = this.#streams.get(plan.streamId);
    const last = stream === undefined ? 'no_stream' : BigInt(stream.length - 1);
    assertExpectedRevision(plan.streamId, plan.expected, last);
  }

  #assertCondition(condition: CheckedCondition): void {
    const conflict = this.#tags.firstConflict(this.#log, condition);
    if (conflict !== undefined) {
      throw new AppendConditionFailed(condition.query, condition.after, conflict.position);
    }
  }

  #write(plan: WritePlan, recordedAt: Date): AppendResult {
    const { streamId, prepared, imported } = plan;
    const stream = this.#streams.get(streamId);
    const target = stream ?? [];
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
        tags: event.tags,
      };
      this.#log.push(stored);
      target.push(stored);
      this.#byId.set(stored.id, stored);
      this.#tags.add(stored);
      written.push(stored);
    }
    if (stream === undefined) this.#streams.set(streamId, target);
    return {
      nextExpectedRevision: written[written.length - 1]!.revision,
      firstPosition: written[0]!.position,
      lastPosition: written[written.length - 1]!.position,
    };
  }

  async *readStream(streamId: string, options: ReadStreamOptions = {}): AsyncGenerator<RecordedEvent> {
    if (!this.registry.personalData.enabled) {
      for (const event of this.#streamEvents(streamId, options)) yield event;
      return;
    }
    yield* this.#opened(this.#streamRows(streamId, options));
  }

  *#streamEvents(streamId: string, options: ReadStreamOptions): Generator<RecordedEvent> {
    for (const row of this.#streamRows(streamId, options)) yield this.registry.decode(row);
  }

  *#streamRows(streamId: string, options: ReadStreamOptions): Generator<StoredEvent> {
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
      for (let i = start; i >= 0 && count < max; i--, count++) yield stream[i]!;
    } else {
      for (let i = Number(from ?? 0n); i < end && count < max; i++, count++) yield stream[i]!;
    }
  }

  async *readAll(options: ReadAllOptions = {}): AsyncGenerator<RecordedEvent> {
    this.#assertOpen();
    assertEventFilter(options.filter);
    const from = toBigIntOption('fromPosition', options.fromPosition) ?? 0n;
    const max = toMaxCount(options.maxCount);
    const end = this.#log.length;
    const rows = function* (log: readonly StoredEvent[], matches: (row: StoredEvent) => boolean) {
      let count = 0;
      for (let i = Math.max(0, Number(from) - 1); i < end && count < max; i++) {
        if (!matches(log[i]!)) continue;
        count++;
        yield log[i]!;
      }
    };
    yield* this.#opened(rows(this.#log, (row) => this.#matches(row, options.filter)));
  }

  /** Decodes rows, opening their personal fields page by page when the store seals them. */
  async *#opened(rows: Iterable<StoredEvent>): AsyncGenerator<RecordedEvent> {
    if (!this.registry.personalData.enabled) {
      for (const row of rows) yield this.registry.decode(row);
      return;
    }
    let page: StoredEvent[] = [];
    for (const row of rows) {
      page.push(row);
      if (page.length < this.#pageSize) continue;
      for (const opened of await this.registry.personalData.open(page)) yield this.registry.decode(opened);
      page = [];
    }
    for (const opened of await this.registry.personalData.open(page)) yield this.registry.decode(opened);
  }

  subscribeToStream(streamId: string, options: SubscribeToStreamOptions = {}): Subscription {
    this.#assertOpen();
    assertStreamId(streamId);
    let next = Number(toBigIntOption('fromRevision', options.fromRevision) ?? 0n);
    return this.#track(async () => {
      const stream = this.#streams.get(streamId) ?? [];
      const page = stream.slice(next, next + this.#pageSize);
      next += page.length;
      const opened = await this.registry.personalData.open(page);
      return { events: opened.map((e) => this.registry.decode(e)), more: next < stream.length };
    });
  }

  subscribeToAll(options: SubscribeToAllOptions = {}): Subscription {
    this.#assertOpen();
    assertEventFilter(options.filter);
    let index = Math.max(0, Number(toBigIntOption('fromPosition', options.fromPosition) ?? 0n) - 1);
    return this.#track(async () => {
      const end = Math.min(this.#log.length, index + this.#pageSize);
      const rows: StoredEvent[] = [];
      for (; index < end; index++) {
        if (this.#matches(this.#log[index]!, options.filter)) rows.push(this.#log[index]!);
      }
      const more = index < this.#log.length;
      const opened = await this.registry.personalData.open(rows);
      return { events: opened.map((row) => this.registry.decode(row)), more };
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
      this.#closing = Promise.all([
        drainSubscriptions(this.#subscriptions, drainTimeoutMs),
        this.#tenants.close((tenant) => tenant.close(options)),
      ]).then(() => {});
    }
    return this.#closing;
  }

  #track(read: () => Promise<PullPage<RecordedEvent>>): Subscription {
    const subscription = new PullSubscription<RecordedEvent>(
      { next: read, notifier: this.#notifier },
      (sub) => this.#subscriptions.delete(sub),
    );
    this.#subscriptions.add(subscription);
    return subscription;
  }

  #matches(stored: StoredEvent, filter: EventFilter | undefined): boolean {
    if (filter?.streamPrefix !== undefined && !stored.streamId.startsWith(filter.streamPrefix)) return false;
    if (filter?.query !== undefined && !this.#tags.matches(filter.query, stored)) return false;
    // Filter on the type the event will have after upcasting, before paying for the upcast.
    if (filter?.types !== undefined) {
      const { type } = this.registry.upcastTarget(stored.type, stored.schemaVersion);
      if (!filter.types.includes(type)) return false;
    }
    return true;
  }

  #assertOpen(): void {
    if (this.#closed) throw new StoreClosed();
  }
}

/** One stream's checked part of an append. */
interface WritePlan {
  readonly streamId: string;
  readonly expected: ExpectedRevisionValue;
  readonly prepared: readonly PreparedEvent[];
  readonly imported: readonly Date[] | undefined;
}

const CAPABILITIES: EventStoreCapabilities = Object.freeze({
  ...defaultCapabilities,
  appendConditions: true,
});
