import type { Kysely, Transaction } from 'kysely';
import { StoreUnavailable } from '../errors/postgres-errors.js';
import { isConnectionError } from './database-errors.js';
import type { StoreContext } from './store-context.js';

/**
 * Runs `fn` in a transaction of the store's Kysely instance (see {@link runTransaction}); after the
 * commit, what `fn` appended through `append(..., { transaction: tx })` is readable, and the store
 * wakes its subscribers and notifies other processes.
 */
export async function runTransactionOf<T>(
  ctx: StoreContext,
  fn: (tx: Transaction<any>) => Promise<T>,
): Promise<T> {
  ctx.assertOpen();
  let used: Transaction<any> | undefined;
  const result = await runTransaction(ctx.kysely, (tx) => {
    used = tx;
    ctx.ownTransactions.add(tx);
    return fn(tx);
  });
  // Committed: what it appended is readable now.
  const last = used === undefined ? undefined : ctx.appendedInTransaction.get(used);
  if (last !== undefined) ctx.afterCommit(last);
  return result;
}

/**
 * Runs `fn` in a transaction of `kysely` and keeps the error that matters when the connection dies.
 *
 * Kysely answers an error of `fn` with a ROLLBACK; on a dead connection that ROLLBACK fails too
 * (node-postgres: "Client has encountered a connection error and is not queryable") and its error
 * would replace the original one. Here the error of `fn` wins: a connection error becomes
 * `StoreUnavailable` with the original as `cause`, any other error reaches the caller unchanged (the
 * server rolled the transaction back when the connection ended). A connection that fails at BEGIN or
 * at COMMIT is `StoreUnavailable` too; at COMMIT the outcome is unknown.
 */
export async function runTransaction<T>(
  kysely: Kysely<any>,
  fn: (tx: Transaction<any>) => Promise<T>,
): Promise<T> {
  let failure: { readonly error: unknown } | undefined;
  let ran = false;
  try {
    return await kysely.transaction().execute(async (tx) => {
      ran = true;
      try {
        return await fn(tx);
      } catch (error) {
        failure = { error };
        throw error;
      }
    });
  } catch (error) {
    const original = failure === undefined ? error : failure.error;
    if (original instanceof StoreUnavailable) throw original;
    if (isConnectionError(original)) {
      const when =
        failure !== undefined
          ? 'a transaction'
          : ran
            ? "a transaction's commit"
            : 'the start of a transaction';
      throw new StoreUnavailable(when, original);
    }
    throw original;
  }
}
