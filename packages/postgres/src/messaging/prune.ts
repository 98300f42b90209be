import { InvalidArgument } from '@annals/core';
import { type Kysely, type RawBuilder, sql } from 'kysely';

/**
 * Options of `prune` on {@link PostgresIdempotencyStore}, {@link PostgresInbox} and
 * {@link PostgresProcessStore}: which records to remove, and how many per statement.
 */
export interface PruneOptions {
  /**
   * Removes the records written more than this many milliseconds ago, by the database's clock (the
   * clock that stamped them). A repeat of a removed id is no longer recognised: keep this longer
   * than any redelivery or retry can come late.
   */
  readonly olderThanMs: number;
  /** Records removed per statement; each statement is its own short transaction. Default 10,000. */
  readonly batchSize?: number;
}

/** What a prune ran on: the default of {@link PruneOptions.batchSize}, and its largest value. */
const DEFAULT_BATCH_SIZE = 10_000;
const MAX_BATCH_SIZE = 1_000_000;

/** @internal {@link PruneOptions} checked, with the default batch size. */
export interface CheckedPruneOptions {
  readonly olderThanMs: number;
  readonly batchSize: number;
}

/** @internal Checks the options of `<owner>.prune`; throws `InvalidArgument` saying what was found. */
export function checkPruneOptions(owner: string, options: PruneOptions): CheckedPruneOptions {
  const olderThanMs = options?.olderThanMs;
  if (typeof olderThanMs !== 'number' || !Number.isFinite(olderThanMs) || olderThanMs < 0) {
    throw new InvalidArgument(
      `${owner}.prune expects olderThanMs, a finite number of milliseconds of at least 0, found ${String(olderThanMs)}.`,
    );
  }
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH_SIZE) {
    throw new InvalidArgument(
      `${owner}.prune expects batchSize, a whole number from 1 to ${MAX_BATCH_SIZE}, found ${String(batchSize)}.`,
    );
  }
  return { olderThanMs, batchSize };
}

/** @internal The rows a prune removes: a table of `schema`, its time column, an optional filter. */
export interface PruneTarget {
  readonly schema: string;
  readonly table: string;
  /** The `timestamptz` column the database stamped at insert; an index leads with it (after `filter`'s). */
  readonly column: string;
  /** Which rows of the table may go (SQL), e.g. one consumer's. */
  readonly filter?: RawBuilder<unknown>;
}

/**
 * @internal Removes the rows of `target` stamped before the database's `now()` minus `olderThanMs`
 * (taken once, at the start), oldest first, `batchSize` per statement, until a statement removes
 * fewer; resolves with how many it removed. `run` runs one statement in a short transaction of its
 * own (and types its errors), so a long prune never holds a lock for long.
 */
export async function pruneOlderThan(
  target: PruneTarget,
  options: CheckedPruneOptions,
  run: <T>(work: (db: Kysely<any>) => Promise<T>) => Promise<T>,
): Promise<number> {
  const table = sql.id(target.schema, target.table);
  const column = sql.ref(target.column);
  const filter = target.filter ?? sql`true`;
  // As text: a JavaScript Date would drop the microseconds, and the cutoff must not move between batches.
  const cutoff = await run(async (db) => {
    const { rows } = await sql<{ cutoff: string }>`
      select (now() - ${options.olderThanMs} * interval '1 millisecond')::text as cutoff`.execute(db);
    return rows[0]!.cutoff;
  });
  let removed = 0;
  for (;;) {
    const deleted = await run(async (db) => {
      const result = await sql`
        delete from ${table} where ctid = any(array(
          select ctid from ${table}
          where ${filter} and ${column} < ${cutoff}::timestamptz
          order by ${column}
          limit ${options.batchSize}))`.execute(db);
      return Number(result.numAffectedRows ?? 0n);
    });
    removed += deleted;
    if (deleted < options.batchSize) return removed;
  }
}
