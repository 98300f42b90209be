import { CheckpointConflict, type CheckpointSaveOptions, type CheckpointStore } from '@annals/core';
import { assertCheckpointKey } from '@annals/core/adapter';
import { type Kysely, sql, type Transaction } from 'kysely';
import { assertSchemaName } from '../schema/schema-name.js';
import { annalsDb } from '../schema/schema-scoped-kysely.js';
import type { AnnalsTables, AnnalsTablesLocation } from '../schema/tables.js';
import { orUnavailable } from '../store/unavailable.js';
import { swapCheckpoint } from './checkpoint-swap.js';

/**
 * The {@link CheckpointStore} of projections on PostgreSQL: one row per key in the `checkpoints`
 * table of the store's schema. A save joins the batch's transaction (`transaction`), so the read
 * model and the checkpoint that covers it commit together (each event takes effect exactly once),
 * and it is a compare-and-swap on the previous position: when another runner moved the checkpoint,
 * it throws `CheckpointConflict` having written nothing, and the batch rolls back.
 *
 * The `owner` of a save is not checked here: the lease store owns that (no lease table yet).
 *
 * @example
 * ```ts
 * const checkpoints = new PostgresCheckpointStore(store);
 * await store.transaction(async (tx) => {
 *   await tx.insertInto('balances').values({ ... }).execute();
 *   await checkpoints.save('balances', event.position, { expected: previous, transaction: tx });
 * });
 * ```
 */
export class PostgresCheckpointStore implements CheckpointStore<Transaction<any>> {
  readonly #location: AnnalsTablesLocation;

  constructor(location: AnnalsTablesLocation) {
    assertSchemaName(location?.schema);
    this.#location = location;
  }

  /** The position of the last applied event for `key`, or undefined. Reads inside `transaction` when given. */
  async load(
    key: string,
    options: { readonly transaction?: Transaction<any> } = {},
  ): Promise<bigint | undefined> {
    return orUnavailable(`loading checkpoint ${key}`, async () => {
      assertCheckpointKey(key);
      const row = await this.#db(options.transaction)
        .selectFrom('checkpoints')
        .select(sql<string>`position::text`.as('position'))
        .where('name', '=', key)
        .executeTakeFirst();
      return row === undefined ? undefined : BigInt(row.position);
    });
  }

  /**
   * Moves `key` to `position` if it still holds `options.expected` (undefined: no checkpoint yet),
   * in one statement, inside `options.transaction` when given. Throws `CheckpointConflict` otherwise.
   */
  async save(key: string, position: bigint, options: CheckpointSaveOptions<Transaction<any>>): Promise<void> {
    return swapCheckpoint(key, position, options, false, {
      write: async () => {
        const expected = options.expected;
        const db = this.#db(options.transaction);
        const text = position.toString();
        const written =
          expected === undefined
            ? await db
                .insertInto('checkpoints')
                .values({ name: key, position: text })
                .onConflict((c) => c.column('name').doNothing())
                .returning('name')
                .executeTakeFirst()
            : await db
                .updateTable('checkpoints')
                .set({ position: text, updated_at: sql<Date>`now()` })
                .where('name', '=', key)
                .where('position', '=', expected.toString())
                .returning('name')
                .executeTakeFirst();
        return written !== undefined;
      },
      conflict: async () =>
        new CheckpointConflict(key, {
          expected: options.expected,
          found: await this.load(key, { transaction: options.transaction }),
          owner: options.owner,
        }),
    });
  }

  /** Removes the checkpoint of `key`: its projection starts from the beginning of the log. */
  async delete(key: string, options: { readonly transaction?: Transaction<any> } = {}): Promise<void> {
    return orUnavailable(`deleting checkpoint ${key}`, async () => {
      assertCheckpointKey(key);
      await this.#db(options.transaction).deleteFrom('checkpoints').where('name', '=', key).execute();
    });
  }

  #db(transaction: Transaction<any> | undefined): Kysely<AnnalsTables> {
    const base = transaction ?? this.#location.kysely;
    return annalsDb(base, this.#location.schema);
  }
}
