import {
  type AppendOptions,
  type AppendResult,
  type CloseOptions,
  ConcurrencyConflict,
  type EventFilter,
  EventRegistry,
  type EventRegistryOptions,
  type EventStore,
  type EventStoreCapabilities,
  EventTooLarge,
  type ExpectedRevisionValue,
  IdempotencyConflict,
  InvalidArgument,
  isConcurrencyConflict,
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
  assertStreamId,
  ChangeNotifier,
  drainSubscriptions,
  drainTimeoutOf,
  EventStoreBase,
  expectedRevisionHolds,
  normalizeExpectedRevision,
  type PreparedEvent,
  type PullPage,
  type PullReadOptions,
  PullSubscription,
  toBigIntOption,
  toMaxCount,
} from '@annals/core/adapter';
import { type Kysely, sql, type Transaction } from 'kysely';
import { Migrator } from 'kysely/migration';
import { NotificationListener } from '../connection/notification-listener.js';
import {
  type OpenedConnection,
  openConnection,
  type PostgresConnectionOptions,
} from '../connection/postgres-connection.js';
import { type PostgresDiagnostics, readDiagnostics } from '../diagnostics/diagnostics.js';
import { MigrationFailed, SchemaNotMigrated, TransactionIdsRewound } from '../errors/postgres-errors.js';
import {
  AnnalsMigrationProvider,
  EVENTS_PER_TRANSACTION,
  LATEST_MIGRATION,
  MIGRATION_LOCK_TABLE,
  MIGRATION_TABLE,
} from '../schema/migrations.js';
import { assertSchemaName, DEFAULT_SCHEMA, notificationChannel } from '../schema/schema-name.js';
import { annalsDb, withSchemaScopedIntrospection } from '../schema/schema-scoped-kysely.js';
import type { AnnalsTables } from '../schema/tables.js';
import {
  type AppendRow,
  appendStatement,
  type BatchArrays,
  storedMatchStatement,
  toBatchArrays,
} from './append-statement.js';
import { connectionFailure } from './connection-failure.js';
import { constraintOf, isTransientError, sqlState } from './database-errors.js';
import {
  belowHorizonOf,
  decodeRow,
  decodeStreamRow,
  EVENT_ROW_COLUMNS,
  type EventRow,
  HORIZON,
  type StreamEventRow,
  selectEvents,
  selectStreamEvents,
  storedBytes,
} from './event-rows.js';
import { PageSizer } from './page-sizer.js';
import { PostCommitNotifier } from './post-commit-notifier.js';
import { ReadAhead } from './read-ahead.js';
import { runTransaction } from './run-transaction.js';
import {
  SubscriptionOutage,
  type SubscriptionOutageOptions,
  toOutageSettings,
} from './subscription-outage.js';
import { toUnavailable } from './unavailable.js';

/** Default largest event: 2 MiB of data + metadata JSON. */
export const DEFAULT_MAX_EVENT_BYTES = 2 * 1024 * 1024;
/** Default rows per page of a read or subscription. */
export const DEFAULT_PAGE_SIZE = 1000;
/** How often an append is re-run when a concurrent writer moved the stream between check and re-read. */
const MAX_APPEND_ATTEMPTS = 5;
/**
 * How often an autocommit append whose revision holds is run again because a writer with a newer
 * transaction id took the stream first (each attempt gets a newer id, so a repeat needs a new race).
 */
export const MAX_REORDER_ATTEMPTS = 20;
/** Why an append whose expected revision holds still failed: the stream's order in the global log. */
const REORDER_REASON =
  "The stream's last event was written by a transaction that started after this one, and a stream's events must follow each other in the global log: retry the transaction (retryOnConcurrency does).";

/** Options of {@link PostgresEventStore.create}. */
export interface PostgresEventStoreOptions extends Omit<EventRegistryOptions, 'events'> {
  /** Event definitions (or a shared {@link EventRegistry}). */
  readonly events?: EventRegistryOptions['events'] | EventRegistry;
  /** The PostgreSQL schema of the Annals tables (and of the migration bookkeeping). Default `'annals'`. */
  readonly schema?: string;
  /**
   * Largest accepted event: its data and metadata as JSON, in UTF-8 bytes. Larger ones are refused
   * with `EventTooLarge` before anything is sent. Default 2 MiB.
   */
  readonly maxEventBytes?: number;
  /** Most rows per page of reads and subscriptions. Default 1000. */
  readonly pageSize?: number;
  /**
   * Stored bytes (data + metadata, as PostgreSQL stores them) a page aims at: after a page of large
   * events the next one asks for fewer rows, so a catch-up never holds gigabytes at once.
   * Default 16 MiB.
   */
  readonly pageBytes?: number;
  /**
   * Subscriptions poll when idle, waiting `minMs` after a read that found something and doubling
   * the wait after each empty read up to `maxMs`. NOTIFY and appends in this process wake them
   * earlier. Default `{ minMs: 25, maxMs: 1000 }`.
   */
  readonly polling?: { readonly minMs?: number; readonly maxMs?: number };
  /**
   * Notify other processes after appends commit (one `pg_notify` per burst of appends, sent after the
   * commit so concurrent writers keep group commit) so their subscribers wake at once. Default true.
   * Off: subscribers in other processes rely on polling alone.
   */
  readonly notify?: boolean;
  /**
   * How long the notification after a commit waits for more appends to commit and share it, in
   * milliseconds: subscribers in other processes wake at most this much later, and sequential appends
   * do not pay a second statement each. 0 sends at once (appends that commit while one is in flight
   * still share the next). Default 5.
   */
  readonly notifyDelayMs?: number;
  /**
   * Read-your-writes for `readAll`: when the last event this store appended is not below the
   * horizon yet (an older transaction elsewhere in the cluster is still open), `readAll` waits up to
   * this long for it before returning what is safe to read. Never returns an unsafe event; 0 turns the
   * wait off. Default 5000 ms.
   */
  readonly horizonWaitMs?: number;
  /**
   * What live subscriptions do while the database cannot be reached: by default they wait out an
   * outage of any length (retrying at most 250 ms apart); `maxUnavailableMs` ends them with
   * `StoreUnavailable` instead, and `onHealth` reports when they become unavailable and live again.
   */
  readonly subscriptions?: SubscriptionOutageOptions;
}

/** {@link AppendOptions} plus the PostgreSQL-only ones. */
export interface PostgresAppendOptions extends AppendOptions {
  /**
   * Append inside this Kysely transaction (from `store.transaction(...)` or your own): the events
   * commit or roll back with it, and become visible to readers of the global log when it commits.
   * Costs one more round trip (the idempotency check runs first, since a failed statement aborts
   * the transaction).
   */
  readonly transaction?: Transaction<any>;
}

/** {@link ReadStreamOptions} plus the PostgreSQL-only ones. */
export interface PostgresReadStreamOptions extends ReadStreamOptions {
  /** Read inside this Kysely transaction (sees its own uncommitted appends). */
  readonly transaction?: Transaction<any>;
}

/** The result of {@link PostgresEventStore.migrate}. */
export interface MigrationReport {
  /** Migrations applied by this call, in order; empty when the schema was already up to date. */
  readonly applied: readonly string[];
}

/**
 * The production {@link EventStore} on PostgreSQL, through Kysely: a server through node-postgres,
 * or embedded through PGlite, with one code path.
 *
 * - Append is one statement (one round trip) per batch; the expected revision is enforced by the
 *   database on the stream's row; re-appending stored event ids is idempotent.
 * - Positions are `(transaction id << 20) + index`, and the global log is read only below the oldest
 *   running transaction: readers never skip a late commit and never see positions go backwards.
 * - Subscriptions catch up, then poll adaptively, woken early by NOTIFY and by appends in this process.
 *
 * @example
 * ```ts
 * const store = await PostgresEventStore.create({ connectionString: process.env.DATABASE_URL! }, { events: [MoneyDeposited] });
 * await store.migrate();
 * await store.append('account-7', [MoneyDeposited.create({ ... })], { expectedRevision: 'no_stream' });
 * for await (const event of store.readStream('account-7')) console.log(event.type);
 * await store.close();
 * ```
 */
export class PostgresEventStore extends EventStoreBase {
  /** Server: several processes, out-of-order commits. PGlite: neither. Both: `maxEventBytes`. */
  readonly capabilities: EventStoreCapabilities;
  /** The definitions and upcasters this store validates and upcasts with. */
  readonly registry: EventRegistry;
  /** The schema of the Annals tables. */
  readonly schema: string;
  /**
   * The Kysely instance the store runs on (yours when you passed `{ kysely }`). Write read models with
   * it; type the Annals tables with `kysely.withSchema(store.schema) as Kysely<AnnalsTables>`.
   */
  readonly kysely: Kysely<any>;
  readonly #connection: OpenedConnection;
  /** The store's own queries: no plugins (a CamelCasePlugin would rename our columns), our schema. */
  readonly #db: Kysely<AnnalsTables>;
  readonly #notifier = new ChangeNotifier();
  readonly #listener: NotificationListener | undefined;
  readonly #subscriptions = new Set<PullSubscription<RecordedEvent>>();
  readonly #channel: string | undefined;
  readonly #postCommit: PostCommitNotifier | undefined;
  readonly #maxEventBytes: number;
  readonly #pageSize: number;
  readonly #pageBytes: number;
  readonly #pollMinMs: number;
  readonly #pollMaxMs: number;
  readonly #horizonWaitMs: number;
  readonly #outage: SubscriptionOutageOptions;
  /** The last position this store appended and saw committed, until readers see it. */
  #lastAppendedPosition: bigint | undefined;
  /** The last position appended inside each open transaction of `transaction()`, noted at its commit. */
  readonly #appendedInTransaction = new WeakMap<Transaction<any>, bigint>();
  /** Transactions opened by {@link transaction}: the store wakes subscribers after their commit. */
  readonly #ownTransactions = new WeakSet<Transaction<any>>();
  #verified: Promise<void> | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;
  /** While closing: the last position this store appended that readers may not have seen yet. */
  #drainTarget: bigint | undefined;

  private constructor(connection: OpenedConnection, settings: Settings) {
    super();
    this.#connection = connection;
    this.kysely = connection.kysely;
    this.registry = settings.registry;
    this.schema = settings.schema;
    this.#db = annalsDb(connection.kysely, settings.schema);
    this.#maxEventBytes = settings.maxEventBytes;
    this.#pageSize = settings.pageSize;
    this.#pageBytes = settings.pageBytes;
    this.#pollMinMs = settings.pollMinMs;
    this.#pollMaxMs = settings.pollMaxMs;
    this.#horizonWaitMs = settings.horizonWaitMs;
    this.#outage = settings.outage;
    this.#channel = settings.notify ? notificationChannel(settings.schema) : undefined;
    const channel = this.#channel;
    this.#postCommit =
      channel === undefined
        ? undefined
        : new PostCommitNotifier(
            () => sql`select pg_notify(${channel}::text, '')`.execute(this.#db),
            settings.notifyDelayMs,
          );
    const listen = connection.listen?.(notificationChannel(settings.schema));
    this.#listener =
      listen === undefined ? undefined : new NotificationListener(listen, () => this.#notifier.notify());
    this.capabilities = Object.freeze({
      multiProcess: connection.multiProcess,
      concurrentCommits: connection.multiProcess,
      maxEventBytes: settings.maxEventBytes,
    });
  }

  /**
   * Opens a store. Checks the options, connects, and when the schema exists, verifies that this
   * cluster's transaction ids are ahead of the stored ones (`TransactionIdsRewound` otherwise).
   * Does not create tables: call {@link migrate}. A server that cannot be reached, or a database that
   * does not exist, is `StoreUnavailable`, naming the target (without its password) and what to check.
   *
   * @param connection `{ connectionString }` (a pg Pool the store owns), `{ kysely }` (yours), or
   *   `{ pglite }` (a PGlite instance you own, or a data folder the store opens and closes).
   */
  static async create(
    connection: PostgresConnectionOptions,
    options: PostgresEventStoreOptions = {},
  ): Promise<PostgresEventStore> {
    const settings = toSettings(options);
    const opened = await openConnection(connection);
    const store = new PostgresEventStore(opened, settings);
    try {
      await store.#verify(store.#db, { allowUnmigrated: true });
    } catch (error) {
      await opened.close().catch(() => {});
      throw connectionFailure(connection, error);
    }
    return store;
  }

  /**
   * Creates or upgrades the Annals tables in the store's schema through Kysely's `Migrator`, with
   * the migrations shipped in this package. Idempotent; safe to run from several processes at once
   * (the migrator takes a lock). Run it explicitly, e.g. at deployment or start-up.
   */
  async migrate(): Promise<MigrationReport> {
    this.#assertOpen();
    const migrator = new Migrator({
      db: withSchemaScopedIntrospection(this.kysely.withoutPlugins(), this.schema),
      provider: new AnnalsMigrationProvider(this.schema),
      migrationTableSchema: this.schema,
      migrationTableName: MIGRATION_TABLE,
      migrationLockTableName: MIGRATION_LOCK_TABLE,
    });
    const { error, results = [] } = await migrator.migrateToLatest();
    if (error !== undefined) {
      const failed = results.find((r) => r.status === 'Error')?.migrationName;
      throw new MigrationFailed(this.schema, failed, error);
    }
    this.#verified = undefined;
    await this.#ensureVerified(this.#db);
    return { applied: results.filter((r) => r.status === 'Success').map((r) => r.migrationName) };
  }

  /**
   * Appends a batch to one stream in one statement (one round trip), all or nothing. The expected
   * revision is enforced by the database; re-appending stored ids returns the original result. When
   * the connection breaks, throws `StoreUnavailable`: retry with the same event ids.
   */
  async append(
    streamId: string,
    events: readonly NewEvent[],
    options: PostgresAppendOptions = {},
  ): Promise<AppendResult> {
    this.#assertOpen();
    assertStreamId(streamId);
    const expected = normalizeExpectedRevision(streamId, options.expectedRevision);
    if (Array.isArray(events) && events.length > EVENTS_PER_TRANSACTION) {
      throw new InvalidArgument(
        `append to stream ${streamId} accepts at most ${EVENTS_PER_TRANSACTION} events per transaction, found a batch of ${events.length}.`,
      );
    }
    const batch = this.registry.prepare(streamId, events, { import: options.import === true });
    if (batch.length === 0) {
      throw new InvalidArgument(
        `append to stream ${streamId} needs at least one event, found an empty batch.`,
      );
    }
    for (const event of batch) this.#checkEvent(streamId, event);
    const arrays = toBatchArrays(batch);
    if (options.transaction !== undefined) {
      return this.#appendInTransaction(options.transaction, streamId, expected, arrays).catch(
        asUnavailable(`an append to stream ${streamId}`),
      );
    }

    await this.#ensureVerified(this.#db);
    // One budget per cause: a run of reorders must not use up the re-runs after a lost statement.
    let reruns = 0;
    let reorders = 0;
    for (;;) {
      let row: AppendRow | undefined;
      try {
        // Autocommit: the notification follows the commit (see PostCommitNotifier).
        row = (await this.#appendStatement(streamId, expected, arrays, undefined).execute(this.#db)).rows[0];
      } catch (error) {
        const repeated = await this.#afterFailedAppend(error, this.#db, streamId, arrays);
        if (repeated !== undefined) return repeated;
        if (++reruns < MAX_APPEND_ATTEMPTS) continue;
        throw await this.#translateAppendError(error, streamId);
      }
      if (row !== undefined) return this.#appended(row, true);
      // The expected revision did not hold. A retry of a stored batch is not a conflict.
      const { result: repeated, actual } = await this.#storedMatch(this.#db, streamId, arrays);
      if (repeated !== undefined) return repeated;
      // The revision holds, so the stream moved meanwhile or a writer with a newer transaction id
      // took it first: run again in a new transaction, whose id is newer than theirs.
      if (expectedRevisionHolds(expected, actual)) {
        if (++reorders < MAX_REORDER_ATTEMPTS) continue;
        throw new ConcurrencyConflict(streamId, expected, actual, REORDER_REASON);
      }
      throw new ConcurrencyConflict(streamId, expected, actual);
    }
  }

  async #appendInTransaction(
    tx: Transaction<any>,
    streamId: string,
    expected: ExpectedRevisionValue,
    arrays: BatchArrays,
  ): Promise<AppendResult> {
    const db = annalsDb(tx, this.schema);
    await this.#ensureVerified(db);
    // A failing statement would abort the caller's transaction: check for a stored batch first.
    const repeated = await this.#storedResult(db, streamId, arrays);
    if (repeated !== undefined) return repeated;
    let row: AppendRow | undefined;
    try {
      // A transaction the store opened notifies after its commit (see transaction()); in one the caller
      // opened, the statement notifies and PostgreSQL delivers it at that commit.
      const channel = this.#ownTransactions.has(tx) ? undefined : this.#channel;
      row = (await this.#appendStatement(streamId, expected, arrays, channel).execute(db)).rows[0];
    } catch (error) {
      throw await this.#translateAppendError(error, streamId, db);
    }
    if (row !== undefined) {
      const result = this.#appended(row, false);
      const before = this.#appendedInTransaction.get(tx);
      if (before === undefined || before < result.lastPosition)
        this.#appendedInTransaction.set(tx, result.lastPosition);
      return result;
    }
    const actual = await this.#currentRevision(db, streamId);
    const reason = expectedRevisionHolds(expected, actual) ? REORDER_REASON : undefined;
    throw new ConcurrencyConflict(streamId, expected, actual, reason);
  }

  /** Remembers the highest position this store saw committed, for readAll's read-your-writes wait. */
  #noteCommitted(position: bigint): void {
    if ((this.#lastAppendedPosition ?? -1n) < position) this.#lastAppendedPosition = position;
  }

  #appendStatement(
    streamId: string,
    expected: ExpectedRevisionValue,
    arrays: BatchArrays,
    channel: string | undefined,
  ) {
    return appendStatement({ schema: this.schema, streamId, expected, arrays, channel });
  }

  #appended(row: AppendRow, committed: boolean): AppendResult {
    const result = {
      nextExpectedRevision: BigInt(row.revision),
      firstPosition: BigInt(row.first_position),
      lastPosition: BigInt(row.last_position),
    };
    // Uncommitted events are invisible: wake nobody before the commit.
    if (committed) this.#afterCommit(result.lastPosition);
    return result;
  }

  /** A commit that appended up to `lastPosition`: read-your-writes, local subscribers, other processes. */
  #afterCommit(lastPosition: bigint): void {
    this.#noteCommitted(lastPosition);
    this.#postCommit?.signal();
    this.#notifier.notify();
  }

  /**
   * After the append statement failed: returns the original result when the batch is already stored
   * (a retry), undefined when the append should be tried again, or throws the translated error.
   */
  async #afterFailedAppend(
    error: unknown,
    db: Kysely<AnnalsTables>,
    streamId: string,
    arrays: BatchArrays,
  ): Promise<AppendResult | undefined> {
    const constraint = sqlState(error) === '23505' ? constraintOf(error) : undefined;
    if (constraint === 'events_id_key') {
      const repeated = await this.#storedResult(db, streamId, arrays);
      if (repeated !== undefined) return repeated;
      return undefined; // the other batch is gone? impossible (append-only), but retrying is safe
    }
    if (constraint === 'events_stream_revision_key') return undefined; // backstop hit: re-run
    // A prepared append that can no longer be used (see prepareMarkedStatements): re-run, prepared anew.
    const state = sqlState(error);
    if (state === '26000' || state === '0A000') return undefined;
    throw await this.#translateAppendError(error, streamId, db);
  }

  /** The typed error for a failed append statement (`db`: where to re-run the start-up check). */
  async #translateAppendError(error: unknown, streamId: string, db?: Kysely<AnnalsTables>): Promise<unknown> {
    const state = sqlState(error);
    const constraint = constraintOf(error);
    if (state === '42P01') return new SchemaNotMigrated(this.schema, 'no Annals tables', { cause: error });
    if (state === '23514' && constraint === 'events_position_in_transaction') {
      return new InvalidArgument(
        `append to stream ${streamId} would take its transaction past ${EVENTS_PER_TRANSACTION} events; split the work into several transactions.`,
        { cause: error },
      );
    }
    if (state === '23505' && constraint === 'events_pkey') {
      // Two transactions got the same position range: the cluster's xids went back (a restore).
      this.#verified = undefined;
      if (db !== undefined) await this.#ensureVerified(db); // throws TransactionIdsRewound
      return error;
    }
    if (state === '23505' && constraint === 'events_id_key') {
      const id = /\(id\)=\(([0-9a-f-]{36})\)/i.exec(String((error as { detail?: unknown }).detail))?.[1];
      return new IdempotencyConflict(
        id ?? '(unknown)',
        `by a concurrent append; the append to stream ${streamId} failed and its transaction is aborted`,
      );
    }
    return toUnavailable(`an append to stream ${streamId}`, error);
  }

  /**
   * When every id of the batch is stored, in `streamId`, consecutively and with the same content:
   * the original result. When none is stored: undefined. Otherwise: `IdempotencyConflict`.
   */
  async #storedResult(
    db: Kysely<AnnalsTables>,
    streamId: string,
    arrays: BatchArrays,
  ): Promise<AppendResult | undefined> {
    return (await this.#storedMatch(db, streamId, arrays)).result;
  }

  /** {@link #storedResult} and the stream's current revision, in one statement. */
  async #storedMatch(
    db: Kysely<AnnalsTables>,
    streamId: string,
    arrays: BatchArrays,
  ): Promise<{ result: AppendResult | undefined; actual: bigint | 'no_stream' }> {
    const rows = (await storedMatchStatement(this.schema, streamId, arrays).execute(db)).rows;
    const current = rows[0]?.current_revision ?? null;
    const actual = current === null ? 'no_stream' : BigInt(current);
    if (rows.every((r) => r.position === null)) return { result: undefined, actual };
    const first = rows[0]!;
    for (const [i, row] of rows.entries()) {
      const id = arrays.ids[i]!;
      if (row.position === null) {
        throw new IdempotencyConflict(
          arrays.ids[rows.findIndex((r) => r.position !== null)]!,
          'while other events of the same batch are not; re-append the original batch unchanged',
        );
      }
      const consecutive =
        first.revision !== null && BigInt(row.revision!) === BigInt(first.revision) + BigInt(i);
      if (row.stream_id !== streamId || row.same_content !== true || !consecutive) {
        throw new IdempotencyConflict(
          id,
          `in stream ${row.stream_id} at revision ${row.revision} with other content or batch`,
        );
      }
    }
    const last = rows[rows.length - 1]!;
    const result = {
      nextExpectedRevision: BigInt(last.revision!),
      firstPosition: BigInt(first.position!),
      lastPosition: BigInt(last.position!),
    };
    return { result, actual };
  }

  async #currentRevision(db: Kysely<AnnalsTables>, streamId: string): Promise<bigint | 'no_stream'> {
    const row = await db
      .selectFrom('streams')
      .select(sql<string>`revision::text`.as('revision'))
      .where('stream_id', '=', streamId)
      .executeTakeFirst();
    return row === undefined ? 'no_stream' : BigInt(row.revision);
  }

  /** Size limit and what PostgreSQL cannot store, checked before anything is sent. */
  #checkEvent(streamId: string, event: PreparedEvent): void {
    const { dataJson, metadataJson } = event;
    // UTF-8 takes at most 3 bytes per UTF-16 unit: skip counting when even that fits.
    if ((dataJson.length + metadataJson.length) * 3 > this.#maxEventBytes) {
      const size = Buffer.byteLength(dataJson, 'utf8') + Buffer.byteLength(metadataJson, 'utf8');
      if (size > this.#maxEventBytes)
        throw new EventTooLarge(event.type, streamId, size, this.#maxEventBytes);
    }
  }

  /** Reads one stream by revision, page by page (no horizon: a stream's order is its revisions). */
  async *readStream(
    streamId: string,
    options: PostgresReadStreamOptions = {},
  ): AsyncGenerator<RecordedEvent> {
    this.#assertOpen();
    assertStreamId(streamId);
    const from = toBigIntOption('fromRevision', options.fromRevision);
    const max = toMaxCount(options.maxCount);
    const direction = options.direction ?? 'forwards';
    if (direction !== 'forwards' && direction !== 'backwards') {
      throw new InvalidArgument(`direction must be 'forwards' or 'backwards', found ${String(direction)}.`);
    }
    const backwards = direction === 'backwards';
    const db = options.transaction === undefined ? this.#db : annalsDb(options.transaction, this.schema);
    await this.#ensureVerified(db);
    const sizer = new PageSizer(this.#pageSize, this.#pageBytes);
    const readPage = (cursor: bigint | undefined, limit: number) => async () => {
      let query = selectStreamEvents(db).where('stream_id', '=', streamId);
      if (cursor !== undefined) query = query.where('revision', backwards ? '<=' : '>=', String(cursor));
      return (await query
        .orderBy('revision', backwards ? 'desc' : 'asc')
        .limit(limit)
        .execute()
        .catch(asUnavailable(`a read of stream ${streamId}`))) as StreamEventRow[];
    };
    // Outside a transaction, with a pool, the next page is fetched while this one is handed out.
    const ahead =
      options.transaction === undefined && this.capabilities.multiProcess
        ? new ReadAhead<StreamEventRow[]>()
        : undefined;
    let cursor = from;
    let count = 0;
    let firstPage = true;
    while (count < max) {
      const limit = Math.min(sizer.limit, max - count);
      const key = `${cursor}:${limit}`;
      const rows = await (ahead?.take(key, readPage(cursor, limit)) ?? readPage(cursor, limit)());
      if (firstPage && rows.length === 0 && (await this.#currentRevision(db, streamId)) === 'no_stream') {
        throw new StreamNotFound(streamId);
      }
      firstPage = false;
      sizer.record(storedBytes(rows));
      // The next page, if any: this one is full, and does not end the stream backwards or the count.
      const last = rows.length === limit ? BigInt(rows[rows.length - 1]!.revision_text) : undefined;
      const next =
        last === undefined || (backwards && last === 0n) ? undefined : backwards ? last - 1n : last + 1n;
      const nextLimit = Math.min(sizer.limit, max - count - rows.length);
      for (const row of rows) {
        yield decodeStreamRow(this.registry, row, streamId);
        count++;
        // The reader asked for more than the first event: start on the next page.
        if (ahead !== undefined && !ahead.started && next !== undefined && nextLimit > 0) {
          ahead.start(`${next}:${nextLimit}`, readPage(next, nextLimit));
        }
      }
      if (next === undefined) return;
      cursor = next;
    }
  }

  /**
   * Reads the global log in position order, page by page, below the horizon (the oldest running
   * transaction): never an event that a still-running transaction could precede. Waits up to
   * `horizonWaitMs` for this store's own last append to become readable.
   */
  async *readAll(options: ReadAllOptions = {}): AsyncGenerator<RecordedEvent> {
    this.#assertOpen();
    let cursor = toBigIntOption('fromPosition', options.fromPosition) ?? 0n;
    const max = toMaxCount(options.maxCount);
    const filter = this.#compileFilter(options.filter);
    await this.#ensureVerified(this.#db);
    const sizer = new PageSizer(this.#pageSize, this.#pageBytes);
    let count = 0;
    let waitUntil: number | undefined;
    let delayMs = 5;
    const readPage = (from: bigint, limit: number) => () =>
      this.#readAllPage(from, limit, filter).catch(asUnavailable('a read of the global log'));
    // With a pool, the next page is fetched while this one is handed out.
    const ahead = this.capabilities.multiProcess ? new ReadAhead<EventRow[]>() : undefined;
    // Without a type filter every row is yielded, so the page need not exceed what is still wanted.
    const limitAfter = (yielded: number) =>
      filter.types === undefined ? Math.min(sizer.limit, max - yielded) : sizer.limit;
    for (;;) {
      const limit = limitAfter(count);
      const rows = await (ahead?.take(`${cursor}:${limit}`, readPage(cursor, limit)) ??
        readPage(cursor, limit)());
      sizer.record(storedBytes(rows));
      if (rows.length > 0) cursor = BigInt(rows[rows.length - 1]!.position_text) + 1n;
      const full = rows.length === limit;
      // Only known without a type filter (every row is yielded); with one, a page read ahead for
      // another limit than the one finally wanted is dropped.
      const nextLimit = limitAfter(count + rows.length);
      for (const row of rows) {
        const event = this.#decodeIfMatching(row, filter);
        if (event === undefined) continue;
        yield event;
        if (++count >= max) return;
        // The reader asked for more than one event of the page: start on the next page.
        if (ahead !== undefined && !ahead.started && full && nextLimit > 0) {
          ahead.start(`${cursor}:${nextLimit}`, readPage(cursor, nextLimit));
        }
      }
      if (full) continue;
      // The end of what is safe to read. Read-your-writes: when this store's own last append is not
      // below the horizon yet (an older transaction elsewhere is still open), wait a little for it.
      const own = this.#lastAppendedPosition;
      if (own === undefined || own < cursor || this.#horizonWaitMs === 0) return;
      waitUntil ??= Date.now() + this.#horizonWaitMs;
      if ((await this.#horizon(this.#db)) > own) {
        // Every later read sees it too: the horizon only rises.
        if (this.#lastAppendedPosition === own) this.#lastAppendedPosition = undefined;
        continue;
      }
      const left = waitUntil - Date.now();
      if (left <= 0) return;
      await new Promise((resolve) => setTimeout(resolve, Math.min(delayMs, left)));
      delayMs = Math.min(delayMs * 2, 100);
    }
  }

  /** The current horizon: readers of the global log see positions below it. */
  async #horizon(db: Kysely<AnnalsTables>): Promise<bigint> {
    const row = await sql<{ horizon: string }>`select
      ${HORIZON}::text as horizon`.execute(db);
    return BigInt(row.rows[0]!.horizon);
  }

  /**
   * One page of the global log from `cursor` (inclusive), below the horizon, in position order. The
   * horizon is applied after the LIMIT (see {@link belowHorizonOf}): an open-ended range under a LIMIT
   * is an ordered index scan whatever the statistics say, and rows at or above the horizon can only
   * end the page, which then comes back short, as a page at the end of what is readable does.
   */
  async #readAllPage(cursor: bigint, limit: number, filter: CompiledFilter): Promise<EventRow[]> {
    let query = selectEvents(this.#db).select('position').where('position', '>=', String(cursor));
    if (filter.storedTypes !== undefined) {
      query = query.where(sql<boolean>`type = any(${filter.storedTypes}::text[])`);
    }
    if (filter.streamPrefix !== undefined) {
      query = query.where(sql<boolean>`starts_with(stream_id, ${filter.streamPrefix}::text)`);
    }
    return (await this.#db
      .selectFrom(query.orderBy('position').limit(limit).as('page'))
      .select(EVENT_ROW_COLUMNS)
      .where(belowHorizonOf(sql.ref('page.position')))
      .orderBy('page.position')
      .execute()) as EventRow[];
  }

  #compileFilter(options: EventFilter | undefined): CompiledFilter {
    const filter = assertEventFilter(options);
    if (filter === undefined) return {};
    const { types, streamPrefix } = filter;
    if (types === undefined) return { streamPrefix };
    // Stored types that may be read as a wanted type (renames); the exact check runs after decoding.
    const storedTypes = this.registry.storedTypesFor(types);
    return { types: new Set(types), storedTypes, streamPrefix };
  }

  #decodeIfMatching(row: EventRow, filter: CompiledFilter): RecordedEvent | undefined {
    const event = decodeRow(this.registry, row);
    if (filter.types !== undefined && !filter.types.has(event.type)) return undefined;
    return event;
  }

  /** Catch-up then live subscription to one stream; polls adaptively, woken by NOTIFY and local appends. */
  subscribeToStream(streamId: string, options: SubscribeToStreamOptions = {}): Subscription {
    this.#assertOpen();
    assertStreamId(streamId);
    let next = toBigIntOption('fromRevision', options.fromRevision) ?? 0n;
    const sizer = new PageSizer(this.#pageSize, this.#pageBytes);
    return this.#track(async () => {
      const limit = sizer.limit;
      const rows = (await selectStreamEvents(this.#db)
        .where('stream_id', '=', streamId)
        .where('revision', '>=', String(next))
        .orderBy('revision')
        .limit(limit)
        .execute()) as StreamEventRow[];
      sizer.record(storedBytes(rows));
      if (rows.length > 0) next = BigInt(rows[rows.length - 1]!.revision_text) + 1n;
      return {
        events: rows.map((row) => decodeStreamRow(this.registry, row, streamId)),
        more: rows.length === limit,
      };
    });
  }

  /** Catch-up then live subscription to the global log, below the horizon like {@link readAll}. */
  subscribeToAll(options: SubscribeToAllOptions = {}): Subscription {
    this.#assertOpen();
    let cursor = toBigIntOption('fromPosition', options.fromPosition) ?? 0n;
    const filter = this.#compileFilter(options.filter);
    const sizer = new PageSizer(this.#pageSize, this.#pageBytes);
    return this.#track(async ({ draining }) => {
      // Closing: the store's own last append must be below the horizon of a read that began after.
      const target = draining ? this.#drainTarget : undefined;
      const reached = target === undefined || cursor > target || (await this.#horizon(this.#db)) > target;
      const limit = sizer.limit;
      const rows = await this.#readAllPage(cursor, limit, filter);
      sizer.record(storedBytes(rows));
      const events: RecordedEvent[] = [];
      for (const row of rows) {
        const event = this.#decodeIfMatching(row, filter);
        if (event !== undefined) events.push(event);
      }
      if (rows.length > 0) cursor = BigInt(rows[rows.length - 1]!.position_text) + 1n;
      return { events, more: rows.length === limit, caughtUp: reached || (target ?? cursor) < cursor };
    });
  }

  /**
   * Runs `fn` in a transaction of the store's Kysely instance. Pass the transaction to
   * `append(..., { transaction: tx })`, to a checkpoint store's `save(..., { transaction: tx, expected })`, or write read models with it:
   * everything commits together or not at all.
   *
   * On PGlite (one connection) everything else waits while the transaction is open: inside `fn`, use
   * only `tx`, never the store's other methods without it.
   *
   * When the connection dies (at BEGIN, in `fn`, at COMMIT), throws `StoreUnavailable` whose `cause` is
   * the first driver error, not the failed ROLLBACK after it. At COMMIT the outcome is unknown: run
   * it again with the same event ids (appends of stored ids return their first result).
   */
  async transaction<T>(fn: (tx: Transaction<any>) => Promise<T>): Promise<T> {
    this.#assertOpen();
    let used: Transaction<any> | undefined;
    const result = await runTransaction(this.kysely, (tx) => {
      used = tx;
      this.#ownTransactions.add(tx);
      return fn(tx);
    });
    // Committed: what it appended is readable now.
    const last = used === undefined ? undefined : this.#appendedInTransaction.get(used);
    if (last !== undefined) this.#afterCommit(last);
    return result;
  }

  /**
   * What holds readers of the global log back: the horizon, how many committed events wait above
   * it, and the oldest open transaction (pid, age, state, query), which is usually the culprit.
   */
  async diagnostics(): Promise<PostgresDiagnostics> {
    this.#assertOpen();
    return readDiagnostics(this.kysely.withoutPlugins(), this.schema);
  }

  /**
   * Refuses every further call with `StoreClosed`, lets subscriptions hand out what was appended
   * before (at most `drainTimeoutMs`, default 5000; see {@link EventStore.close}), then stops them,
   * closes the LISTEN connection, and ends what the store created (its pg Pool, or the PGlite it
   * opened from a path). A Kysely or PGlite instance you passed stays open.
   */
  async close(options?: CloseOptions): Promise<void> {
    const drainTimeoutMs = drainTimeoutOf(options);
    if (this.#closing === undefined) {
      this.#closed = true;
      this.#drainTarget = this.#lastAppendedPosition;
      this.#closing = (async () => {
        await drainSubscriptions(this.#subscriptions, drainTimeoutMs);
        await this.#postCommit?.close();
        await this.#listener?.close();
        await this.#connection.close();
      })();
    }
    return this.#closing;
  }

  #track(read: (options: PullReadOptions) => Promise<PullPage<RecordedEvent>>): Subscription {
    this.#listener?.acquire();
    const outage = new SubscriptionOutage(this.#outage, { minMs: this.#pollMinMs, maxMs: this.#pollMaxMs });
    let outageReads = 0;
    let stopped = false;
    const subscription = new PullSubscription<RecordedEvent>(
      {
        // While the store closes, subscriptions still read (see close()); stopped ones never do.
        next: async (options) => {
          if (stopped) return EMPTY_PAGE;
          try {
            await this.#ensureVerified(this.#db);
            const page = await read(options);
            outage.succeeded();
            return page;
          } catch (error) {
            if (stopped) return EMPTY_PAGE;
            if (!isTransientError(error)) throw error;
            // A lost connection, a server restarting: read again (with capped back-off) rather than
            // end, unless maxUnavailableMs has passed (then failed() throws StoreUnavailable). A store
            // that is closing reads again too, to hand out what was appended before close().
            outage.failed(error);
            return FAILED_PAGE;
          }
        },
        notifier: this.#notifier,
        idleTimeoutMs: (emptyReads) => {
          if (outage.failures > 0) {
            outageReads = emptyReads;
            return outage.retryDelayMs();
          }
          // The failed reads of an outage count as empty ones: after it, polling starts over fast.
          if (emptyReads < outageReads) outageReads = 0;
          const idle = emptyReads - outageReads;
          return Math.min(this.#pollMaxMs, this.#pollMinMs * 2 ** Math.min(idle, 30));
        },
        onStop: async () => {
          stopped = true;
          await this.#listener?.release();
        },
      },
      (sub) => this.#subscriptions.delete(sub),
    );
    this.#subscriptions.add(subscription);
    return subscription;
  }

  #ensureVerified(db: Kysely<AnnalsTables>): Promise<void> {
    if (this.#verified === undefined) {
      const verifying = this.#verify(db, { allowUnmigrated: false }).catch((error: unknown) => {
        if (this.#verified === verifying) this.#verified = undefined;
        throw error;
      });
      this.#verified = verifying;
    }
    return this.#verified;
  }

  /**
   * Checks that the schema is migrated and that the cluster's next transaction id is above every
   * stored one (a dump restored into another cluster starts lower, and new events would sort first).
   * The next xid comes from the snapshot's xmax, so the check consumes no transaction id.
   */
  async #verify(db: Kysely<AnnalsTables>, options: { allowUnmigrated: boolean }): Promise<void> {
    let row: { migration: string | null; next_xid: string; stored_xid: string | null } | undefined;
    try {
      row = (
        await sql<{ migration: string | null; next_xid: string; stored_xid: string | null }>`select
          (select name from ${sql.id(this.schema, MIGRATION_TABLE)} order by name desc limit 1) as migration,
          pg_snapshot_xmax(pg_current_snapshot())::text as next_xid,
          (select transaction_id::text from ${sql.id(this.schema, 'events')} order by position desc limit 1) as stored_xid`.execute(
          db,
        )
      ).rows[0];
    } catch (error) {
      if (sqlState(error) !== '42P01') throw error;
      if (options.allowUnmigrated) return;
      throw new SchemaNotMigrated(this.schema, 'no Annals tables', { cause: error });
    }
    if (row === undefined) throw new Error('the verification query returned no row');
    if (row.migration === null || row.migration < LATEST_MIGRATION) {
      if (options.allowUnmigrated) return;
      throw new SchemaNotMigrated(
        this.schema,
        row.migration === null ? 'no applied migration' : `migrations up to ${row.migration}`,
      );
    }
    if (row.stored_xid !== null && BigInt(row.next_xid) <= BigInt(row.stored_xid)) {
      throw new TransactionIdsRewound(this.schema, BigInt(row.next_xid), BigInt(row.stored_xid));
    }
    if (options.allowUnmigrated) this.#verified = Promise.resolve();
  }

  #assertOpen(): void {
    if (this.#closed) throw new StoreClosed();
  }
}

const EMPTY_PAGE: PullPage<RecordedEvent> = Object.freeze({ events: [], more: false });
/** A read that failed: nothing, and not known to reach the end (a closing store reads again). */
const FAILED_PAGE: PullPage<RecordedEvent> = Object.freeze({ events: [], more: false, caughtUp: false });

interface CompiledFilter {
  /** The decoded types to keep. */
  readonly types?: ReadonlySet<string>;
  /** Stored types that may decode to one of `types` (pushed down to SQL). */
  readonly storedTypes?: readonly string[];
  readonly streamPrefix?: string | undefined;
}

interface Settings {
  readonly registry: EventRegistry;
  readonly schema: string;
  readonly maxEventBytes: number;
  readonly pageSize: number;
  readonly pageBytes: number;
  readonly pollMinMs: number;
  readonly pollMaxMs: number;
  readonly notify: boolean;
  readonly notifyDelayMs: number;
  readonly horizonWaitMs: number;
  readonly outage: SubscriptionOutageOptions;
}

function toSettings(options: PostgresEventStoreOptions): Settings {
  const schema = options.schema ?? DEFAULT_SCHEMA;
  assertSchemaName(schema);
  const positive = (name: string, value: number | undefined, fallback: number) => {
    if (value === undefined) return fallback;
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new InvalidArgument(`${name} must be a positive integer, found ${String(value)}.`);
    }
    return value;
  };
  const nonNegative = (name: string, value: number | undefined, fallback: number) =>
    value === 0 ? 0 : positive(name, value, fallback);
  const pollMinMs = positive('polling.minMs', options.polling?.minMs, 25);
  const pollMaxMs = positive('polling.maxMs', options.polling?.maxMs, Math.max(1000, pollMinMs));
  if (pollMaxMs < pollMinMs) {
    throw new InvalidArgument(
      `polling.maxMs must be at least polling.minMs (${pollMinMs}), found ${pollMaxMs}.`,
    );
  }
  return {
    registry: EventRegistry.from(options as EventRegistryOptions),
    schema,
    maxEventBytes: positive('maxEventBytes', options.maxEventBytes, DEFAULT_MAX_EVENT_BYTES),
    pageSize: positive('pageSize', options.pageSize, DEFAULT_PAGE_SIZE),
    pageBytes: positive('pageBytes', options.pageBytes, 16 * 1024 * 1024),
    pollMinMs,
    pollMaxMs,
    notify: options.notify ?? true,
    notifyDelayMs: nonNegative('notifyDelayMs', options.notifyDelayMs, 5),
    horizonWaitMs: nonNegative('horizonWaitMs', options.horizonWaitMs, 5000),
    outage: toOutageSettings(options.subscriptions),
  };
}

/** Rethrows a lost-connection error as `StoreUnavailable`, any other error as it is. */
function asUnavailable(operation: string): (error: unknown) => never {
  return (error) => {
    throw toUnavailable(operation, error);
  };
}

/**
 * True when `error` is the `ConcurrencyConflict` of an append inside a transaction whose expected
 * revision held: a newer transaction wrote the stream first, and a stream's events must follow each
 * other in the global log. Running the whole transaction again succeeds (it gets a newer id).
 *
 * @example
 * ```ts
 * for (;;) {
 *   try {
 *     return await store.transaction((tx) => work(tx));
 *   } catch (error) {
 *     if (!isStreamOrderConflict(error)) throw error;
 *   }
 * }
 * ```
 */
export function isStreamOrderConflict(error: unknown): boolean {
  return isConcurrencyConflict(error) && expectedRevisionHolds(error.expected, error.actual);
}
