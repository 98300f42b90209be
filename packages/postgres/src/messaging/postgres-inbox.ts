import { InvalidArgument, runInStoreTransaction } from '@annals/core';
import { assertStoreKey } from '@annals/core/adapter';
import type { Kysely, Transaction } from 'kysely';
import type { MessagingTables } from '../schema/messaging-schema.js';
import { annalsDb } from '../schema/schema-scoped-kysely.js';
import type { PostgresEventStore } from '../store/postgres-event-store.js';
import { onMessagingTable } from './messaging-errors.js';
import { checkPruneOptions, type PruneOptions, pruneOlderThan } from './prune.js';

/** Options of {@link PostgresInbox}. */
export interface PostgresInboxOptions {
  /** The consumer's name: message ids are unique per consumer. */
  readonly consumer: string;
}

/**
 * The receiving side of at-least-once delivery: records the id of every message a consumer handled
 * in the `inbox_messages` table of the store's schema, in the same transaction as the message's
 * effects. A redelivered message (same id) finds its record and has no second effect; a crash before
 * the commit leaves neither, so the redelivery handles it.
 *
 * Acknowledge the message to the broker after `handle` resolves: a crash between the commit and the
 * acknowledgement only causes a redelivery, which `handle` skips.
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
  readonly #store: PostgresEventStore;

  constructor(store: PostgresEventStore, options: PostgresInboxOptions) {
    if (typeof store?.transaction !== 'function' || typeof store.schema !== 'string') {
      throw new InvalidArgument(`PostgresInbox expects a PostgresEventStore, found ${String(store)}.`);
    }
    assertStoreKey('PostgresInbox consumer name', options?.consumer);
    this.#store = store;
    this.consumer = options.consumer;
  }

  /**
   * Runs `effects` in one transaction with the record of `messageId`, unless this consumer has
   * handled that id already. Resolves true when the effects ran and committed, false for a repeat.
   * Inside `effects`, repositories (and commands) join the transaction. A redelivery that arrives
   * while the first delivery is being handled waits for it, then is skipped.
   */
  async handle(messageId: string, effects: (tx: Transaction<any>) => Promise<void>): Promise<boolean> {
    assertStoreKey('message id', messageId);
    if (typeof effects !== 'function') {
      throw new InvalidArgument(
        `PostgresInbox.handle expects an effects function, found ${String(effects)}.`,
      );
    }
    return this.#store.transaction(async (tx) => {
      // The insert takes the row first: a concurrent delivery of the same id waits for this commit.
      const claimed = await this.#on(`recording message ${messageId}`, () =>
        this.#db(tx)
          .insertInto('inbox_messages')
          .values({ consumer: this.consumer, message_id: messageId })
          .onConflict((oc) => oc.columns(['consumer', 'message_id']).doNothing())
          .returning('message_id')
          .executeTakeFirst(),
      );
      if (claimed === undefined) return false;
      await runInStoreTransaction({ store: this.#store, transaction: tx }, () => effects(tx));
      return true;
    });
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
   * its retention). Run it from one process at a time, e.g. on a schedule or with `annals prune`.
   */
  async prune(options: PruneOptions): Promise<number> {
    const checked = checkPruneOptions('PostgresInbox', options);
    const target = {
      schema: this.#store.schema,
      table: 'inbox_messages',
      column: 'handled_at',
      where: { column: 'consumer', value: this.consumer },
    };
    return pruneOlderThan(target, checked, (work) =>
      this.#on(`pruning the inbox of ${this.consumer}`, () => this.#store.transaction(work)),
    );
  }

  #on<T>(operation: string, work: () => Promise<T>): Promise<T> {
    return onMessagingTable(this.#store.schema, 'inbox_messages', operation, work);
  }

  #db(tx: Transaction<any> | undefined): Kysely<MessagingTables> {
    return annalsDb<MessagingTables>(tx ?? this.#store.kysely, this.#store.schema);
  }
}
