import {
  type AppendResult,
  type AppendToStreamsOptions,
  type AppendToStreamsResult,
  type CloseOptions,
  type EventLogStats,
  type EventRegistry,
  type EventStore,
  type EventStoreCapabilities,
  InvalidArgument,
  type Logger,
  type NewEvent,
  type RecordedEvent,
  type StreamWrite,
  type SubscribeToAllOptions,
  type SubscribeToStreamOptions,
  type Subscription,
  type TenantScopedStore,
} from '@annals/core';
import {
  drainTimeoutOf,
  EventStoreBase,
  TenantHandles,
  traceAppend,
  traceAppendToStreams,
} from '@annals/core/adapter';
import type { Kysely, Transaction } from 'kysely';
import { NotificationListener } from '../connection/notification-listener.js';
import {
  type OpenedConnection,
  openConnection,
  type PostgresConnectionOptions,
} from '../connection/postgres-connection.js';
import { appendToStreams } from '../dcb/append-to-streams.js';
import { type PostgresDiagnostics, readDiagnostics } from '../diagnostics/diagnostics.js';
import { PostgresEventLogStats } from '../projection/postgres-event-log-stats.js';
import { notificationChannel } from '../schema/schema-name.js';
import { type MigrationReport, migrateSchema } from '../schema/verify.js';
import { lentConnection, tenantSchemaName } from '../tenants/tenant-schema.js';
import { appendToStream } from './append.js';
import { connectionFailure } from './connection-failure.js';
import { appendWithInlineProjections } from './inline-projections.js';
import {
  type PostgresAppendOptions,
  type PostgresEventStoreOptions,
  type PostgresReadAllOptions,
  type PostgresReadStreamOptions,
  toSettings,
} from './options.js';
import { readAll, readStream } from './read.js';
import { StoreContext } from './store-context.js';
import { StoreSubscriptions } from './subscribe.js';
import { runTransactionOf } from './transaction.js';

/**
 * The production {@link EventStore} on PostgreSQL, through Kysely: a server through node-postgres,
 * or embedded through PGlite, with one code path. Each concern lives in its own module: append
 * (`append.ts`, whose SQL is `append-function.ts`), reads (`read.ts`), subscriptions
 * (`subscribe.ts`), transactions (`transaction.ts`), inline projections (`inline-projections.ts`),
 * migration and verification of the schema (`../schema/verify.ts`).
 *
 * - Append is one statement (one round trip) per batch; the expected revision is enforced by the
 *   database on the stream's row; re-appending stored event ids is idempotent.
 * - Positions are `(transaction id << 20) + index`, and the global log is read only below the oldest
 *   running transaction: readers never skip a late commit and never see positions go backwards.
 * - Subscriptions catch up, then poll adaptively, woken early by NOTIFY and by appends in this process.
 * - Inline projections (the `inlineProjections` option) are applied in each append's transaction.
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
export class PostgresEventStore
  extends EventStoreBase
  implements EventStore, TenantScopedStore<PostgresEventStore>
{
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
  readonly #ctx: StoreContext;
  readonly #listener: NotificationListener | undefined;
  readonly #subscriptions: StoreSubscriptions;
  /** The tenant this handle is scoped to (see {@link forTenant}), undefined on the store itself. */
  readonly tenantId: string | undefined;
  readonly #tenants: TenantHandles<PostgresEventStore>;
  #closing: Promise<void> | undefined;

  private constructor(
    connection: OpenedConnection,
    ctx: StoreContext,
    logger: Logger | undefined,
    tenantId?: string,
  ) {
    super(logger === undefined ? {} : { logger });
    this.tenantId = tenantId;
    this.#tenants = new TenantHandles((id) => {
      const settings = { ...ctx.settings, schema: tenantSchemaName(ctx.schema, id) };
      const shared = lentConnection(connection);
      return new PostgresEventStore(
        shared,
        new StoreContext(shared.kysely, settings, shared.multiProcess),
        logger,
        id,
      );
    });
    this.#connection = connection;
    this.#ctx = ctx;
    this.kysely = connection.kysely;
    this.registry = ctx.settings.registry;
    this.schema = ctx.schema;
    const listen = connection.listen?.(notificationChannel(ctx.schema));
    this.#listener =
      listen === undefined ? undefined : new NotificationListener(listen, () => ctx.notifier.notify());
    this.#subscriptions = new StoreSubscriptions(ctx, this.#listener);
    this.capabilities = Object.freeze({
      multiProcess: connection.multiProcess,
      concurrentCommits: connection.multiProcess,
      maxEventBytes: ctx.settings.maxEventBytes,
      appendConditions: true,
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
    settings.ownKeys?.attach({ kysely: opened.kysely, schema: settings.schema });
    const store = new PostgresEventStore(
      opened,
      new StoreContext(opened.kysely, settings, opened.multiProcess),
      options.logger,
    );
    try {
      await store.#ctx.verifyIfMigrated();
    } catch (error) {
      await opened.close().catch(() => {});
      throw connectionFailure(connection, error);
    }
    return store;
  }

  /**
   * The handle of one tenant: the Annals tables in a schema of its own (`<schema>_t_<tenant>`), on
   * this store's connection, so its reads, subscriptions, checkpoints and leases never see another
   * tenant's rows, and its global order is its own. Run `await handle.migrate()` once per tenant
   * before use. The same object for the same id; closed with this store. Throws `InvalidTenantId`
   * for an id that is not 1 to 32 lower-case letters, digits or `_`.
   */
  forTenant(tenantId: string): PostgresEventStore {
    this.#ctx.assertOpen();
    if (this.tenantId !== undefined) {
      throw new InvalidArgument(
        `forTenant is called on a store, found a call on the handle of tenant ${this.tenantId}.`,
      );
    }
    return this.#tenants.get(tenantId);
  }

  /**
   * Creates or upgrades the Annals tables in the store's schema through Kysely's `Migrator`, with
   * the migrations shipped in this package. Idempotent; safe to run from several processes at once
   * (the migrator takes a lock). Run it explicitly, e.g. at deployment or start-up.
   */
  async migrate(): Promise<MigrationReport> {
    this.#ctx.assertOpen();
    const report = await migrateSchema(this.kysely, this.schema);
    this.#ctx.forgetVerification();
    await this.#ctx.ensureVerified(this.#ctx.db);
    return report;
  }

  /**
   * Appends a batch to one stream in one statement (one round trip), all or nothing. The expected
   * revision is enforced by the database; re-appending stored ids returns the original result. When
   * the connection breaks, throws `StoreUnavailable`: retry with the same event ids. With
   * `inlineProjections`, they are applied in the append's transaction (see
   * {@link PostgresEventStoreOptions.inlineProjections}): a throwing handler fails the append.
   */
  append(
    streamId: string,
    events: readonly NewEvent[],
    options: PostgresAppendOptions = {},
  ): Promise<AppendResult> {
    return traceAppend(streamId, events, options, async (batch) =>
      this.#ctx.settings.inlineProjections.length > 0
        ? appendWithInlineProjections(this.#ctx, streamId, batch, options)
        : appendToStream(this.#ctx, streamId, batch, options),
    );
  }

  /**
   * Appends to several streams, all or nothing, under one optional append condition (see
   * `EventStore.appendToStreams`). One write costs one round trip; more run in one transaction.
   */
  appendToStreams(
    writes: readonly StreamWrite[],
    options: AppendToStreamsOptions = {},
  ): Promise<AppendToStreamsResult> {
    return traceAppendToStreams(writes, (stamped) => appendToStreams(this.#ctx, stamped, options));
  }

  /** Reads one stream by revision, page by page (no horizon: a stream's order is its revisions). */
  readStream(streamId: string, options: PostgresReadStreamOptions = {}): AsyncGenerator<RecordedEvent> {
    return readStream(this.#ctx, streamId, options);
  }

  /**
   * Reads the global log in position order, page by page, below the horizon (the oldest running
   * transaction): never an event that a still-running transaction could precede. Waits up to
   * `horizonWaitMs` for this store's own last append to become readable. With `transaction`, reads
   * inside it (see {@link PostgresReadAllOptions}).
   */
  readAll(options: PostgresReadAllOptions = {}): AsyncGenerator<RecordedEvent> {
    return readAll(this.#ctx, options);
  }

  /** Catch-up then live subscription to one stream; polls adaptively, woken by NOTIFY and local appends. */
  subscribeToStream(streamId: string, options: SubscribeToStreamOptions = {}): Subscription {
    return this.#subscriptions.toStream(streamId, options);
  }

  /** Catch-up then live subscription to the global log, below the horizon like {@link readAll}. */
  subscribeToAll(options: SubscribeToAllOptions = {}): Subscription {
    return this.#subscriptions.toAll(options);
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
    return runTransactionOf(this.#ctx, fn);
  }

  /**
   * What holds readers of the global log back: the horizon, how many committed events wait above
   * it, and the oldest open transaction (pid, age, state, query), which is usually the culprit.
   */
  async diagnostics(): Promise<PostgresDiagnostics> {
    this.#ctx.assertOpen();
    return readDiagnostics(this.kysely.withoutPlugins(), this.schema);
  }

  /**
   * {@link PostgresEventLogStats} of this store's schema: one query counts every committed event,
   * also those behind another session's open transaction that `readAll` does not return yet, so a
   * `ProjectionRunner` waits for them. Once the store is closed, `pending` rejects with `StoreClosed`.
   */
  logStats(): EventLogStats {
    const stats = new PostgresEventLogStats(this);
    return {
      pending: async (options) => {
        this.#ctx.assertOpen();
        return stats.pending(options);
      },
    };
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
      this.#ctx.markClosed();
      this.#closing = (async () => {
        await this.#tenants.close((tenant) => tenant.close(options));
        await this.#subscriptions.close(drainTimeoutMs);
        await this.#ctx.closeNotifications();
        await this.#listener?.close();
        await this.#connection.close();
      })();
    }
    return this.#closing;
  }
}
