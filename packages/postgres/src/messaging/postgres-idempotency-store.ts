import {
  currentStoreTransaction,
  type IdempotencyRecord,
  InvalidArgument,
  runInStoreTransaction,
  type TransactionalIdempotencyStore,
} from '@annals/core';
import type { Kysely, Transaction } from 'kysely';
import type { MessagingTables } from '../schema/messaging-schema.js';
import { annalsDb } from '../schema/schema-scoped-kysely.js';
import type { PostgresEventStore } from '../store/postgres-event-store.js';
import { onMessagingTable } from './messaging-errors.js';
import { checkPruneOptions, type PruneOptions, pruneOlderThan } from './prune.js';

/** Thrown inside the transaction when another one recorded the command first: it rolls back. */
class RecordedElsewhere extends Error {}

/**
 * The idempotency store of the command bus on PostgreSQL: the `idempotency_records` table of the
 * store's schema (created by `store.migrate()`). With `idempotency({ store })`, a command runs in one
 * transaction of the event store: its repositories read and append through it, and the command id
 * with its result is recorded before the commit. A crash at any point leaves both the events and the
 * record, or neither: a retry with the same command id appends once and returns the first result.
 *
 * - Results are kept as JSON and returned as JSON gives them back (on the first run too, so every
 *   caller sees the same value); a result JSON cannot hold (a bigint, a function) fails the command
 *   with `InvalidArgument` and nothing is stored.
 * - When two processes run the same command id at once, the second to commit rolls back and returns
 *   the first one's result (or fails with `ConcurrencyConflict` when both appended to one stream:
 *   with `retryOnConcurrency` used before `idempotency`, the retry returns the first result).
 * - Inside the handler, reach the database only through repositories (or `currentStoreTransaction()`):
 *   on PGlite the transaction holds the one connection until it commits. Snapshots are neither read
 *   nor taken inside it. A command executed by a handler joins the same transaction.
 *
 * @example
 * ```ts
 * const bus = new CommandBus({ handlers })
 *   .use(retryOnConcurrency())
 *   .use(idempotency({ store: new PostgresIdempotencyStore(store) }));
 * await bus.execute(Deposit, data, { commandId: 'deposit-42' }); // retried after a crash: one append
 * ```
 */
export class PostgresIdempotencyStore implements TransactionalIdempotencyStore {
  readonly #store: PostgresEventStore;

  constructor(store: PostgresEventStore) {
    if (typeof store?.transaction !== 'function' || typeof store.schema !== 'string') {
      throw new InvalidArgument(
        `PostgresIdempotencyStore expects a PostgresEventStore, found ${String(store)}.`,
      );
    }
    this.#store = store;
  }

  /** The record of `commandId`, or undefined when no command with that id succeeded. */
  async get(commandId: string): Promise<IdempotencyRecord | undefined> {
    return this.#find(this.#db(undefined), commandId);
  }

  /** Records `record` outside any transaction (the first record of an id is kept). */
  async set(commandId: string, record: IdempotencyRecord): Promise<void> {
    await this.#insert(this.#db(undefined), commandId, record.commandType, record.payload, record.result);
  }

  /**
   * Returns the record of `commandId`, or runs `run` in a transaction of the event store (joined by
   * its repositories) and records its result before the commit. See the class description.
   */
  async runOnce(
    commandId: string,
    command: Omit<IdempotencyRecord, 'result'>,
    run: () => Promise<unknown>,
  ): Promise<IdempotencyRecord> {
    const outer = currentStoreTransaction();
    if (outer !== undefined && outer.store === this.#store) {
      // A command executed by a handler: it joins the transaction of the command that runs it.
      return this.#runIn(outer.transaction as Transaction<any>, commandId, command, run);
    }
    const recorded = await this.get(commandId);
    if (recorded !== undefined) return recorded;
    try {
      return await this.#store.transaction((tx) => this.#runIn(tx, commandId, command, run));
    } catch (error) {
      if (!(error instanceof RecordedElsewhere)) throw error;
      // The other run committed first; our transaction (with its appends) rolled back. Its record is
      // the answer, unless someone deleted it since: then nothing ran the command, so run it now.
      return (await this.get(commandId)) ?? this.runOnce(commandId, command, run);
    }
  }

  async #runIn(
    tx: Transaction<any>,
    commandId: string,
    command: Omit<IdempotencyRecord, 'result'>,
    run: () => Promise<unknown>,
  ): Promise<IdempotencyRecord> {
    const db = this.#db(tx);
    const recorded = await this.#find(db, commandId);
    if (recorded !== undefined) return recorded;
    const result = await runInStoreTransaction({ store: this.#store, transaction: tx }, run);
    const json = toJson(command.commandType, result);
    const inserted = await this.#insert(db, commandId, command.commandType, command.payload, result, json);
    if (!inserted) throw new RecordedElsewhere();
    return Object.freeze({ ...command, result: json === null ? undefined : JSON.parse(json) });
  }

  async #find(db: Kysely<MessagingTables>, commandId: string): Promise<IdempotencyRecord | undefined> {
    const row = await this.#on(`reading the idempotency record of ${commandId}`, () =>
      db
        .selectFrom('idempotency_records')
        .select(['command_type', 'payload', 'result'])
        .where('command_id', '=', commandId)
        .executeTakeFirst(),
    );
    if (row === undefined) return undefined;
    return Object.freeze({
      commandType: row.command_type,
      payload: row.payload,
      result: row.result === null ? undefined : JSON.parse(row.result),
    });
  }

  /** Inserts the record unless the id has one; true when this call inserted it. */
  async #insert(
    db: Kysely<MessagingTables>,
    commandId: string,
    commandType: string,
    payload: string,
    result: unknown,
    json: string | null = toJson(commandType, result),
  ): Promise<boolean> {
    const row = await this.#on(`recording command ${commandId}`, () =>
      db
        .insertInto('idempotency_records')
        .values({ command_id: commandId, command_type: commandType, payload, result: json })
        .onConflict((oc) => oc.column('command_id').doNothing())
        .returning('command_id')
        .executeTakeFirst(),
    );
    return row !== undefined;
  }

  /**
   * Removes the records of commands that succeeded more than `olderThanMs` ago, oldest first, in
   * batches; resolves with how many it removed. A retry of a removed command id runs the command
   * again, so keep records longer than any retry can come late. Run it from one process at a time,
   * e.g. on a schedule (`annals prune` does it from the command line).
   */
  async prune(options: PruneOptions): Promise<number> {
    const checked = checkPruneOptions('PostgresIdempotencyStore', options);
    const target = { schema: this.#store.schema, table: 'idempotency_records', column: 'recorded_at' };
    return pruneOlderThan(target, checked, (work) =>
      this.#on('pruning idempotency records', () => this.#store.transaction(work)),
    );
  }

  #on<T>(operation: string, work: () => Promise<T>): Promise<T> {
    return onMessagingTable(this.#store.schema, 'idempotency_records', operation, work);
  }

  #db(tx: Transaction<any> | undefined): Kysely<MessagingTables> {
    return annalsDb<MessagingTables>(tx ?? this.#store.kysely, this.#store.schema);
  }
}

/** The result as JSON text (null for undefined); `InvalidArgument` for what JSON cannot hold. */
function toJson(commandType: string, result: unknown): string | null {
  if (result === undefined) return null;
  let json: string | undefined;
  try {
    json = JSON.stringify(result);
  } catch (error) {
    throw new InvalidArgument(
      `The handler of ${commandType} returned a result PostgresIdempotencyStore cannot keep as JSON (${(error as Error).message}); return plain JSON values (strings for bigints).`,
      { cause: error },
    );
  }
  if (json === undefined) {
    throw new InvalidArgument(
      `The handler of ${commandType} returned ${typeof result}, which PostgresIdempotencyStore cannot keep as JSON; return plain JSON values.`,
    );
  }
  return json;
}
