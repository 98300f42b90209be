import type { Subscription } from '@annals/core';
import type { AnnalsTables, PostgresEventStore } from '@annals/postgres';
import { type Kysely, sql } from 'kysely';

/**
 * The live log's subscriptions to the global log (one per open page), so closing the console ends
 * them all.
 */
export class LiveFeeds {
  readonly #store: PostgresEventStore;
  readonly #open = new Set<Subscription>();

  constructor(store: PostgresEventStore) {
    this.#store = store;
  }

  /**
   * Subscribes to the global log (events as stored) from `from`, or, without it, from the `recent`
   * latest visible events (0: from the next append on).
   */
  async open(from: bigint | undefined, recent: number): Promise<Subscription> {
    const start = from ?? (await this.#startOfRecent(recent));
    const subscription = this.#store.subscribeToAll({ fromPosition: start });
    this.#open.add(subscription);
    return subscription;
  }

  /** Stops `subscription` and forgets it. */
  async stop(subscription: Subscription): Promise<void> {
    this.#open.delete(subscription);
    await subscription.stop();
  }

  /** Stops every open feed. */
  async close(): Promise<void> {
    const all = [...this.#open];
    this.#open.clear();
    await Promise.all(all.map((s) => s.stop()));
  }

  /** The position of the `recent`-th latest event readers can see; after the last one when 0. */
  async #startOfRecent(recent: number): Promise<bigint> {
    const head = (await this.#store.diagnostics()).lastVisiblePosition;
    if (head === undefined) return 0n;
    if (recent === 0) return head + 1n;
    const db = this.#store.kysely.withoutPlugins().withSchema(this.#store.schema) as Kysely<AnnalsTables>;
    const rows = await db
      .selectFrom('events')
      .select(sql<string>`position::text`.as('position_text'))
      .where('position', '<=', head.toString())
      .orderBy('position', 'desc')
      .limit(recent)
      .execute();
    return rows.length === 0 ? head + 1n : BigInt(rows.at(-1)!.position_text);
  }
}
