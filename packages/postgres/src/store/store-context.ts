import { StoreClosed } from '@annals/core';
import { ChangeNotifier } from '@annals/core/adapter';
import { type Kysely, sql, type Transaction } from 'kysely';
import { notificationChannel } from '../schema/schema-name.js';
import { annalsDb } from '../schema/schema-scoped-kysely.js';
import type { AnnalsTables } from '../schema/tables.js';
import { verifySchema } from '../schema/verify.js';
import { GroupCommit } from './group-commit.js';
import type { Settings } from './options.js';
import { PostCommitNotifier } from './post-commit-notifier.js';

/**
 * What the parts of one `PostgresEventStore` (append, reads, subscriptions, transactions) share: its
 * settings and queries, whether it is open and its schema verified, and what it appended that
 * readers may not have seen yet.
 */
export class StoreContext {
  readonly settings: Settings;
  /** The Kysely instance the store runs on (the user's when they passed one). */
  readonly kysely: Kysely<any>;
  /** The store's own queries: no plugins (a CamelCasePlugin would rename our columns), our schema. */
  readonly db: Kysely<AnnalsTables>;
  /** Several processes share the database (a server), so reads may run ahead on other connections. */
  readonly multiProcess: boolean;
  /** The NOTIFY channel appends signal on, or undefined when notifications are off. */
  readonly channel: string | undefined;
  /** Wakes this process's subscriptions. */
  readonly notifier = new ChangeNotifier();
  readonly #postCommit: PostCommitNotifier | undefined;
  /** Group commit of autocommit appends (server with `groupCommit` on), or undefined. */
  readonly groups: GroupCommit | undefined;
  /** The last position this store appended and saw committed, until readers see it. */
  lastAppendedPosition: bigint | undefined;
  /** While closing: the last position this store appended that readers may not have seen yet. */
  drainTarget: bigint | undefined;
  /** The last position appended inside each open transaction of `transaction()`, noted at its commit. */
  readonly appendedInTransaction = new WeakMap<Transaction<any>, bigint>();
  /** Transactions the store opened: it wakes subscribers after their commit. */
  readonly ownTransactions = new WeakSet<Transaction<any>>();
  #verified: Promise<void> | undefined;
  #closed = false;

  constructor(kysely: Kysely<any>, settings: Settings, multiProcess: boolean) {
    this.settings = settings;
    this.kysely = kysely;
    this.db = annalsDb(kysely, settings.schema);
    this.multiProcess = multiProcess;
    this.channel = settings.notify ? notificationChannel(settings.schema) : undefined;
    this.groups =
      multiProcess && settings.groupCommit ? new GroupCommit(this.db, settings.schema) : undefined;
    const channel = this.channel;
    this.#postCommit =
      channel === undefined
        ? undefined
        : new PostCommitNotifier(
            () => sql`select pg_notify(${channel}::text, '')`.execute(this.db),
            settings.notifyDelayMs,
          );
  }

  get schema(): string {
    return this.settings.schema;
  }

  /** The store's queries inside `transaction`, or on the store's own connection. */
  dbOf(transaction: Transaction<any> | undefined): Kysely<AnnalsTables> {
    return transaction === undefined ? this.db : annalsDb(transaction, this.schema);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Refuses every further call (see `PostgresEventStore.close`). */
  markClosed(): void {
    this.#closed = true;
    this.drainTarget = this.lastAppendedPosition;
  }

  assertOpen(): void {
    if (this.#closed) throw new StoreClosed();
  }

  /** Verifies the schema once (see {@link verifySchema}); a failed check runs again next time. */
  ensureVerified(db: Kysely<AnnalsTables>): Promise<void> {
    if (this.#verified === undefined) {
      const verifying = verifySchema(db, this.schema, { allowUnmigrated: false }).then(
        () => {},
        (error: unknown) => {
          if (this.#verified === verifying) this.#verified = undefined;
          throw error;
        },
      );
      this.#verified = verifying;
    }
    return this.#verified;
  }

  /** At opening: verifies the schema if it is migrated (an unmigrated one is checked at first use). */
  async verifyIfMigrated(): Promise<void> {
    if (await verifySchema(this.db, this.schema, { allowUnmigrated: true })) {
      this.#verified = Promise.resolve();
    }
  }

  /** Checks the schema again at the next use (after a migration, or a sign that xids went back). */
  forgetVerification(): void {
    this.#verified = undefined;
  }

  /** A commit that appended up to `lastPosition`: read-your-writes, local subscribers, other processes. */
  afterCommit(lastPosition: bigint): void {
    if ((this.lastAppendedPosition ?? -1n) < lastPosition) this.lastAppendedPosition = lastPosition;
    this.#postCommit?.signal();
    this.notifier.notify();
  }

  /** Sends the pending notification, then stops notifying. */
  async closeNotifications(): Promise<void> {
    await this.#postCommit?.close();
  }
}
