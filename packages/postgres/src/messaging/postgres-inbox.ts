import { hasErrorCode, InvalidArgument, runInStoreTransaction } from '@annals/core';
import { assertStoreKey } from '@annals/core/adapter';
import { type Kysely, sql, type Transaction } from 'kysely';
import type { MessagingTables } from '../schema/messaging-schema.js';
import { annalsDb } from '../schema/schema-scoped-kysely.js';
import { isClosedConnection, isTransientError } from '../store/database-errors.js';
import type { PostgresEventStore } from '../store/postgres-event-store.js';
import {
  countFailure,
  deadLetter,
  describeFailure,
  type InboxDeadLetter,
  listDeadLetters,
  releaseDeadLetter,
} from './inbox-failures.js';
import { onMessagingTable } from './messaging-errors.js';
import { checkPruneOptions, type PruneOptions, pruneOlderThan } from './prune.js';

/** Options of {@link PostgresInbox}. */
export interface PostgresInboxOptions {
  /** The consumer's name: message ids are unique per consumer. */
  readonly consumer: string;
  /**
   * Gives up on a message whose effects failed this many times (a poison message): the last failure
   * makes it a dead letter (see {@link PostgresInbox.deadLetters}), records its id as handled, and
   * `handle` resolves `false`, so the consumer acknowledges it and moves on. Until then each failure
   * is counted and rethrown. A whole number of at least 1; without it, every failure is rethrown
   * and nothing is counted.
   */
  readonly maxAttempts?: number;
}

/**
 * The receiving side of at-least-once delivery: records the id of every message a consumer handled
 * in the `inbox_messages` table of the store's schema, in the same transaction as the message's
 * effects. A redelivered message (same id) finds its record and has no second effect; a crash before
 * the commit leaves neither, so the redelivery handles it.
 *
 * Acknowledge the message to the broker after `handle` resolves: a crash between the commit and the
 * acknowledgement only causes a redelivery, which `handle` skips. With `maxAttempts`, a message whose
 * effects keep failing is given up on after that many attempts and kept as a dead letter.
 *
 * @example
 * ```ts
 * const inbox = new PostgresInbox(store, { consumer: 'notifications' });
 * for await (const msg of messages) {
 *   await inbox.handle(msg.headers.get('Nats-Msg-Id'), async (tx) => {
 *     await tx.insertInto('notices').values({ ... }).execute(); // or bus.execute(...): it joins tx
 *   });
 *   msg.ack();
 * }
 * ```
 */
export class PostgresInbox {
  /** The consumer's name. */
  readonly consumer: string;
  /** Failed attempts after which a message is a dead letter; undefined: never. */
  readonly maxAttempts: number | undefined;
  readonly #store: PostgresEventStore;

  constructor(store: PostgresEventStore, options: PostgresInboxOptions) {
    if (typeof store?.transaction !== 'function' || typeof store.schema !== 'string') {
      throw new InvalidArgument(`PostgresInbox expects a PostgresEventStore, found ${String(store)}.`);
    }
    assertStoreKey('PostgresInbox consumer name', options?.consumer);
    const { maxAttempts } = options;
    if (maxAttempts !== undefined && (!Number.isSafeInteger(maxAttempts) || maxAttempts < 1)) {
      throw new InvalidArgument(
        `PostgresInbox maxAttempts must be a whole number of at least 1, found ${String(maxAttempts)}.`,
      );
    }
    this.#store = store;
    this.consumer = options.consumer;
    this.maxAttempts = maxAttempts;
  }

  /**
   * Runs `effects` in one transaction with the record of `messageId`, unless this consumer has
   * handled that id already. Resolves true when the effects ran and committed, false for a repeat (or,
   * with `maxAttempts`, for a message given up on now or before). Inside `effects`, repositories (and
   * commands) join the transaction. A redelivery that arrives while the first delivery is being
   * handled waits for it, then is skipped. When `effects` throw, nothing is recorded but the failed
   * attempt (with `maxAttempts`), and the error is rethrown.
   */
  async handle(messageId: string, effects: (tx: Transaction<any>) => Promise<void>): Promise<boolean> {
    assertStoreKey('message id', messageId);
    if (typeof effects !== 'function') {
      throw new InvalidArgument(
        `PostgresInbox.handle expects an effects function, found ${String(effects)}.`,
      );
    }
    let effectsFailed = false;
    try {
      return await this.#store.transaction(async (tx) => {
        // The insert takes the row first: a concurrent delivery of the same id waits for this commit.
        const claimed = await this.#on(`recording message ${messageId}`, () =>
          claim(this.#db(tx), this.consumer, messageId),
        );
        if (!claimed) return false;
        try {
          await runInStoreTransaction({ store: this.#store, transaction: tx }, () => effects(tx));
        } catch (error) {
          effectsFailed = true;
          throw error;
        }
        return true;
      });
    } catch (error) {
      // A lost connection or a closed store is not the message's fault: it is not counted.
      const counted = effectsFailed && !isInfrastructureFailure(error);
      if (!counted || this.maxAttempts === undefined) throw error;
      return this.#failed(messageId, error, this.maxAttempts);
    }
  }

  /** Counts a failed attempt; rethrows `error` below `maxAttempts`, else gives the message up. */
  async #failed(messageId: string, error: unknown, maxAttempts: number): Promise<false> {
    const attempts = await this.#on(`counting a failed attempt of message ${messageId}`, () =>
      countFailure(this.#db(undefined), this.consumer, messageId, describeFailure(error)),
    );
    if (attempts < maxAttempts) throw error;
    await this.#on(`giving up on message ${messageId}`, () =>
      this.#store.transaction((tx) => deadLetter(this.#db(tx), this.consumer, messageId)),
    );
    return false;
  }

  /** The messages this consumer gave up on after `maxAttempts` failed attempts, oldest first. */
  async deadLetters(): Promise<readonly InboxDeadLetter[]> {
    return this.#on(`listing the dead letters of ${this.consumer}`, () =>
      listDeadLetters(this.#db(undefined), this.consumer),
    );
  }

  /**
   * Removes the dead letter of `messageId` and its record as handled, in one transaction, so its next
   * delivery (from the broker, or your copy of it) runs the effects again, with a fresh count of
   * attempts. Resolves true when there was one.
   */
  async release(messageId: string): Promise<boolean> {
    assertStoreKey('message id', messageId);
    return this.#on(`releasing the dead letter of message ${messageId}`, () =>
      this.#store.transaction((tx) => releaseDeadLetter(this.#db(tx), this.consumer, messageId)),
    );
  }

  /** True when this consumer has handled `messageId`. */
  async handled(messageId: string): Promise<boolean> {
    assertStoreKey('message id', messageId);
    return this.#on(`reading the inbox of ${this.consumer}`, async () => {
      const row = await this.#db(undefined)
        .selectFrom('inbox_messages')
        .select('message_id')
        .where('consumer', '=', this.consumer)
        .where('message_id', '=', messageId)
        .executeTakeFirst();
      return row !== undefined;
    });
  }

  /**
   * Removes this consumer's records of messages handled more than `olderThanMs` ago, oldest first,
   * in batches; resolves with how many it removed. A redelivery of a removed message id has its
   * effects again, so keep records longer than the broker can redeliver (its deduplication window,
   * its retention). The failed attempts of messages that were not given up on, last failed before
   * the window, go too. Run it from one process at a time, e.g. on a schedule or with `annals prune`.
   */
  async prune(options: PruneOptions): Promise<number> {
    const checked = checkPruneOptions('PostgresInbox', options);
    const { schema } = this.#store;
    const ours = sql`consumer = ${this.consumer}`;
    const run = <T>(work: (db: Kysely<any>) => Promise<T>) =>
      this.#on(`pruning the inbox of ${this.consumer}`, () => this.#store.transaction(work));
    // Failed attempts of messages not given up on (most succeeded later) go with the window.
    const failures = sql`${ours} and dead_lettered_at is null`;
    await pruneOlderThan(
      { schema, table: 'inbox_failures', column: 'last_failed_at', filter: failures },
      checked,
      run,
    );
    const records = { schema, table: 'inbox_messages', column: 'handled_at', filter: ours };
    return pruneOlderThan(records, checked, run);
  }

  #on<T>(operation: string, work: () => Promise<T>): Promise<T> {
    return onMessagingTable(this.#store.schema, 'inbox_messages', operation, work);
  }

  #db(tx: Transaction<any> | undefined): Kysely<MessagingTables> {
    return annalsDb<MessagingTables>(tx ?? this.#store.kysely, this.#store.schema);
  }
}

/** Records `messageId` as handled by `consumer` unless it is already; true when this call recorded it. */
async function claim(db: Kysely<MessagingTables>, consumer: string, messageId: string): Promise<boolean> {
  const row = await db
    .insertInto('inbox_messages')
    .values({ consumer, message_id: messageId })
    .onConflict((oc) => oc.columns(['consumer', 'message_id']).doNothing())
    .returning('message_id')
    .executeTakeFirst();
  return row !== undefined;
}

/** A failure of the database, not of the message: a lost or closed connection, a transient refusal. */
function isInfrastructureFailure(error: unknown): boolean {
  return (
    hasErrorCode(error, 'STORE_UNAVAILABLE') ||
    hasErrorCode(error, 'STORE_CLOSED') ||
    isTransientError(error) ||
    isClosedConnection(error)
  );
}
