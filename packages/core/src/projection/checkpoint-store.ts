/** Options of {@link CheckpointStore.save}. */
export interface CheckpointSaveOptions<TTransaction = unknown> {
  /**
   * The checkpoint the caller read before the batch (`undefined` when there was none). The save is a
   * compare-and-swap: it writes only if the stored checkpoint is still this one.
   */
  readonly expected: bigint | undefined;
  /**
   * The runner that owns the projection. A store that knows the leases writes only while this owner
   * holds the unexpired lease on the key.
   */
  readonly owner?: string;
  /** Join this transaction (Postgres: the Kysely transaction of the batch) instead of opening one. */
  readonly transaction?: TTransaction;
}

/**
 * Where projections remember how far they got: per key (a projection name, or one shard of it), the
 * global position of the last event whose effects are stored. A projection resumes at the next
 * position.
 *
 * The checkpoint must advance only together with the effects it covers: an adapter whose read models
 * live in the same database writes it in the batch's transaction (`transaction`), so read-model
 * writes and checkpoint commit or roll back as one (exactly once).
 *
 * @example
 * ```ts
 * const checkpoints = new InMemoryCheckpointStore();
 * await checkpoints.save('balances', 42n, { expected: undefined });
 * await checkpoints.load('balances'); // 42n
 * ```
 */
export interface CheckpointStore<TTransaction = unknown> {
  /** The position of the last applied event for `key`, or undefined when it has none. */
  load(key: string): Promise<bigint | undefined>;
  /**
   * Moves the checkpoint of `key` to `position` if it is still `options.expected` (and, when the store
   * checks leases, while `options.owner` holds the lease on `key`). Otherwise it writes nothing and
   * throws: `CheckpointConflict` when the checkpoint moved, `LeaseLost` when a store that checks
   * leases finds the lease lost (it may say so for a moved checkpoint too). The caller's transaction
   * must then roll back.
   */
  save(key: string, position: bigint, options: CheckpointSaveOptions<TTransaction>): Promise<void>;
}
