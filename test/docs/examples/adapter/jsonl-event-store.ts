/**
 * The adapter built in docs/guides/writing-an-adapter.md: an event store that keeps its log in one
 * JSON-lines file, one line per committed batch. Small on purpose, but a real adapter: it survives a
 * restart, and it passes the same conformance suite as the built-in stores
 * (test/docs/examples/writing-an-adapter.test.ts).
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import {
  type AppendOptions,
  type AppendResult,
  type CloseOptions,
  type EventFilter,
  EventRegistry,
  type EventRegistryOptions,
  type EventStoreCapabilities,
  IdempotencyConflict,
  InMemoryKeyStore,
  InvalidArgument,
  type NewEvent,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  StoreClosed,
  StreamNotFound,
  type SubscribeToAllOptions,
  type SubscribeToStreamOptions,
  type Subscription,
} from '@annals/core';
import {
  assertEventFilter,
  assertExpectedRevision,
  assertStreamId,
  ChangeNotifier,
  defaultCapabilities,
  drainSubscriptions,
  drainTimeoutOf,
  EventStoreBase,
  importedRecordedAt,
  normalizeExpectedRevision,
  type PreparedEvent,
  PullSubscription,
  type StoredEvent,
  toBigIntOption,
  toMaxCount,
  traceAppend,
  withDefaultKeys,
  withoutTraceContext,
} from '@annals/core/adapter';

/** One stored event, with its data and metadata also kept as the JSON text that was written. */
interface Row {
  readonly stored: StoredEvent;
  readonly dataJson: string;
  readonly metadataJson: string;
}

/** Options of {@link JsonlEventStore}: the file, and the usual registry options. */
export interface JsonlEventStoreOptions extends Omit<EventRegistryOptions, 'events'> {
  readonly path: string;
  readonly events?: EventRegistryOptions['events'] | EventRegistry;
}

// #region class
/**
 * An event store in a JSON-lines file. One process owns the file; each line is one batch, so a crash
 * in the middle of a write loses at most that whole batch (a torn last line is ignored on open).
 */
export class JsonlEventStore extends EventStoreBase {
  // One process, one file, appends applied in call order: the defaults describe it.
  readonly capabilities: EventStoreCapabilities = defaultCapabilities;
  readonly registry: EventRegistry;
  readonly #path: string;
  readonly #log: Row[] = [];
  readonly #streams = new Map<string, Row[]>();
  readonly #byId = new Map<string, Row>();
  readonly #notifier = new ChangeNotifier();
  readonly #subscriptions = new Set<PullSubscription<RecordedEvent>>();
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(options: JsonlEventStoreOptions) {
    super();
    // Personal fields without a key store given: keys in memory (lost with the process: a restart
    // reads PersonalDataUnreadable, never garbage). Pass `personalData: { keys }` to keep them.
    this.registry = EventRegistry.from(
      withDefaultKeys(options, () => new InMemoryKeyStore()) as EventRegistryOptions,
    );
    this.#path = options.path;
    if (existsSync(this.#path)) this.#load(readFileSync(this.#path, 'utf8'));
  }

  // append, readStream, readAll, subscribeToStream, subscribeToAll, close: below; publish and
  // subscribe come from EventStoreBase
  // #endregion class

  // #region append
  append(streamId: string, events: readonly NewEvent[], options: AppendOptions = {}): Promise<AppendResult> {
    // Spans, metrics and the caller's trace context in the events' metadata, as in every shipped
    // store; without an OpenTelemetry SDK it only calls #append.
    return traceAppend(streamId, events, options, (batch) => this.#append(streamId, batch, options));
  }

  async #append(
    streamId: string,
    events: readonly NewEvent[],
    options: AppendOptions,
  ): Promise<AppendResult> {
    this.#assertOpen();
    const expected = normalizeExpectedRevision(streamId, options.expectedRevision);
    // Validates every event against its schema, assigns ids, serializes once. Throws before any write.
    const prepared = this.registry.prepare(streamId, events, { import: options.import === true });
    // Personal fields (declared with personal()) sealed under their subjects' keys: never stored in clear.
    const batch = await this.registry.personalData.seal(streamId, prepared);
    this.#assertOpen();
    if (batch.length === 0) {
      throw new InvalidArgument(
        `append to stream ${streamId} needs at least one event, found an empty batch.`,
      );
    }
    // An import may carry each event's original recordedAt (checked the same way by every store).
    const imported = importedRecordedAt(streamId, options, batch.length);
    const repeated = this.#idempotentResult(streamId, batch);
    if (repeated !== undefined) return repeated;

    const stream = this.#streams.get(streamId);
    assertExpectedRevision(
      streamId,
      expected,
      stream === undefined ? 'no_stream' : BigInt(stream.length - 1),
    );

    const recordedAt = new Date();
    const rows = batch.map(
      (event, i): Row => ({
        stored: {
          id: event.id,
          type: event.type,
          schemaVersion: event.schemaVersion,
          streamId,
          revision: BigInt((stream?.length ?? 0) + i),
          position: BigInt(this.#log.length + i + 1),
          data: JSON.parse(event.dataJson),
          metadata: JSON.parse(event.metadataJson),
          recordedAt: imported?.[i] ?? recordedAt,
        },
        dataJson: event.dataJson,
        metadataJson: event.metadataJson,
      }),
    );
    appendFileSync(this.#path, `${serializeBatch(rows)}\n`); // the commit point: one line, one write
    this.#index(rows);
    this.#notifier.notify(); // wakes this store's subscriptions
    return {
      nextExpectedRevision: rows.at(-1)!.stored.revision,
      firstPosition: rows[0]!.stored.position,
      lastPosition: rows.at(-1)!.stored.position,
    };
  }
  // #endregion append

  /** The first result again when the whole batch is already stored unchanged; a conflict when only part of it is, or with other content. */
  #idempotentResult(streamId: string, batch: readonly PreparedEvent[]): AppendResult | undefined {
    const stored = batch.map((event) => this.#byId.get(event.id));
    if (stored.every((row) => row === undefined)) return undefined;
    const first = stored[0];
    for (const [i, row] of stored.entries()) {
      const event = batch[i]!;
      const same =
        row !== undefined &&
        first !== undefined &&
        row.stored.streamId === streamId &&
        row.stored.type === event.type &&
        row.stored.schemaVersion === event.schemaVersion &&
        // Same content = equal JSON values: object keys in any order, as jsonb compares them.
        isDeepStrictEqual(JSON.parse(row.dataJson), JSON.parse(event.dataJson)) &&
        // ... and metadata apart from the trace context, which a retry from another request changes.
        isDeepStrictEqual(
          withoutTraceContext(JSON.parse(row.metadataJson)),
          withoutTraceContext(JSON.parse(event.metadataJson)),
        ) &&
        row.stored.revision === first.stored.revision + BigInt(i);
      if (!same) {
        throw new IdempotencyConflict(
          event.id,
          'with other content or in another batch; re-append the original batch unchanged',
        );
      }
    }
    return {
      nextExpectedRevision: stored.at(-1)!.stored.revision,
      firstPosition: first!.stored.position,
      lastPosition: stored.at(-1)!.stored.position,
    };
  }

  // #region reads
  async *readStream(streamId: string, options: ReadStreamOptions = {}): AsyncGenerator<RecordedEvent> {
    this.#assertOpen();
    assertStreamId(streamId); // the same stream-id rules as every store (appends check them in prepare)
    const from = toBigIntOption('fromRevision', options.fromRevision);
    const max = toMaxCount(options.maxCount);
    const stream = this.#streams.get(streamId);
    if (stream === undefined) throw new StreamNotFound(streamId);
    const rows =
      options.direction === 'backwards'
        ? stream.slice(0, from === undefined ? stream.length : Number(from) + 1).reverse()
        : stream.slice(Number(from ?? 0n));
    // #decode: open personal fields, upcast, validate, deep-freeze. Every read path goes through it.
    for (const event of await this.#decode(rows.slice(0, max))) yield event;
  }

  async *readAll(options: ReadAllOptions = {}): AsyncGenerator<RecordedEvent> {
    this.#assertOpen();
    assertEventFilter(options.filter); // an object of string types and prefix, else InvalidArgument
    const from = toBigIntOption('fromPosition', options.fromPosition) ?? 0n;
    const max = toMaxCount(options.maxCount);
    const rows = this.#log
      .slice(Math.max(0, Number(from) - 1))
      .filter((row) => this.#matches(row, options.filter));
    for (let start = 0; start < Math.min(rows.length, max); start += PAGE_SIZE) {
      const page = rows.slice(start, Math.min(start + PAGE_SIZE, max));
      for (const event of await this.#decode(page)) yield event;
    }
  }
  // #endregion reads

  // #region subscriptions
  subscribeToAll(options: SubscribeToAllOptions = {}): Subscription {
    this.#assertOpen();
    assertEventFilter(options.filter);
    let next = Math.max(0, Number(toBigIntOption('fromPosition', options.fromPosition) ?? 0n) - 1);
    return this.#track(async () => {
      const page = this.#log.slice(next, next + PAGE_SIZE);
      next += page.length;
      const events = await this.#decode(page.filter((row) => this.#matches(row, options.filter)));
      return { events, more: next < this.#log.length };
    });
  }

  subscribeToStream(streamId: string, options: SubscribeToStreamOptions = {}): Subscription {
    this.#assertOpen();
    assertStreamId(streamId);
    let next = Number(toBigIntOption('fromRevision', options.fromRevision) ?? 0n);
    return this.#track(async () => {
      const stream = this.#streams.get(streamId) ?? [];
      const page = stream.slice(next, next + PAGE_SIZE);
      next += page.length;
      return { events: await this.#decode(page), more: next < stream.length };
    });
  }

  /** PullSubscription runs the catch-up-then-live loop; the store only says how to read the next page. */
  #track(readPage: () => Promise<{ events: readonly RecordedEvent[]; more: boolean }>): Subscription {
    const subscription = new PullSubscription<RecordedEvent>(
      { next: readPage, notifier: this.#notifier },
      (ended) => this.#subscriptions.delete(ended),
    );
    this.#subscriptions.add(subscription);
    return subscription;
  }
  // #endregion subscriptions

  // #region close
  async close(options?: CloseOptions): Promise<void> {
    const drainTimeoutMs = drainTimeoutOf(options); // bad input throws before anything closes
    if (this.#closing === undefined) {
      this.#closed = true;
      // Subscriptions first hand out what was appended before close(), then stop.
      this.#closing = drainSubscriptions(this.#subscriptions, drainTimeoutMs);
    }
    return this.#closing;
  }
  // #endregion close

  /** Personal fields opened (or FORGOTTEN), then each event upcast, validated and frozen. */
  async #decode(rows: readonly Row[]): Promise<RecordedEvent[]> {
    const opened = await this.registry.personalData.open(rows.map((row) => row.stored));
    return opened.map((stored) => this.registry.decode(stored));
  }

  #matches(row: Row, filter: EventFilter | undefined): boolean {
    const { stored } = row;
    if (filter?.streamPrefix !== undefined && !stored.streamId.startsWith(filter.streamPrefix)) return false;
    // Filter on the type the event will have after upcasting, before paying for the upcast.
    return (
      filter?.types === undefined ||
      filter.types.includes(this.registry.upcastTarget(stored.type, stored.schemaVersion).type)
    );
  }

  #index(rows: readonly Row[]): void {
    for (const row of rows) {
      this.#log.push(row);
      this.#byId.set(row.stored.id, row);
      const stream = this.#streams.get(row.stored.streamId);
      if (stream === undefined) this.#streams.set(row.stored.streamId, [row]);
      else stream.push(row);
    }
  }

  #load(text: string): void {
    const lines = text.split('\n').filter((line) => line.length > 0);
    for (const [n, line] of lines.entries()) {
      let rows: Row[];
      try {
        rows = parseBatch(line);
      } catch (cause) {
        if (n === lines.length - 1 && !text.endsWith('\n')) return; // a torn last write: that batch never committed
        throw new InvalidArgument(`Line ${n + 1} of ${this.#path} is not a stored batch.`, { cause });
      }
      this.#index(rows);
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new StoreClosed();
  }
}

const PAGE_SIZE = 500;

function serializeBatch(rows: readonly Row[]): string {
  // data and metadata are already JSON text (from prepare): splice them in rather than serialize twice.
  const events = rows.map(
    ({ stored: e, dataJson, metadataJson }) =>
      `{"id":${JSON.stringify(e.id)},"type":${JSON.stringify(e.type)},"schemaVersion":${e.schemaVersion},` +
      `"streamId":${JSON.stringify(e.streamId)},"revision":"${e.revision}","position":"${e.position}",` +
      `"recordedAt":"${e.recordedAt.toISOString()}","data":${dataJson},"metadata":${metadataJson}}`,
  );
  return `[${events.join(',')}]`;
}

function parseBatch(line: string): Row[] {
  const parsed = JSON.parse(line) as Array<Record<string, any>>;
  return parsed.map((r) => ({
    stored: {
      id: r.id,
      type: r.type,
      schemaVersion: r.schemaVersion,
      streamId: r.streamId,
      revision: BigInt(r.revision),
      position: BigInt(r.position),
      recordedAt: new Date(r.recordedAt),
      data: r.data,
      metadata: r.metadata,
    },
    dataJson: JSON.stringify(r.data),
    metadataJson: JSON.stringify(r.metadata),
  }));
}
