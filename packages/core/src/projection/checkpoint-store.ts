import { InvalidArgument } from '../errors/store-errors.js';
import { MAX_POSITION } from '../store/limits.js';
import { assertStoreKey } from '../store/store-key.js';

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
   * throws: `LeaseLost` when a store that checks leases finds `options.owner` no longer holds the
   * lease (taken, released or expired), else `CheckpointConflict` when the checkpoint moved (also
   * under a lease still held). The caller's transaction must then roll back.
   */
  save(key: string, position: bigint, options: CheckpointSaveOptions<TTransaction>): Promise<void>;
}

/**
 * Checks the arguments of a checkpoint save: a key (see {@link assertCheckpointKey}), a position and,
 * when given, the expected previous position, each a bigint from 0 to {@link MAX_POSITION}, and the
 * owner when given (a lease owner, see `assertLeaseArgs`). Adapters reuse it so they refuse the same
 * input with `InvalidArgument`.
 */
export function assertCheckpointArgs(key: string, position: bigint, expected?: bigint, owner?: string): void {
  assertCheckpointKey(key);
  if (owner !== undefined) assertStoreKey('lease owner', owner);
  if (typeof position !== 'bigint' || position < 0n) {
    throw new InvalidArgument(`A checkpoint position must be a bigint >= 0, found ${String(position)}.`);
  }
  if (expected !== undefined && (typeof expected !== 'bigint' || expected < 0n)) {
    throw new InvalidArgument(
      `expected must be the previous checkpoint (a bigint >= 0) or undefined, found ${String(expected)}.`,
    );
  }
  for (const [what, value] of [
    ['position', position],
    ['expected position', expected],
  ] as const) {
    if (value !== undefined && value > MAX_POSITION) {
      throw new InvalidArgument(
        `A checkpoint ${what} must be at most ${MAX_POSITION} (2^63 - 1, MAX_POSITION), found ${value}.`,
      );
    }
  }
}

/**
 * Checks a checkpoint key with {@link assertStoreKey}: a non-empty string of well-formed text without
 * the NUL character, of at most `MAX_KEY_BYTES` UTF-8 bytes. Throws `InvalidArgument` naming what was found.
 */
export function assertCheckpointKey(key: unknown): asserts key is string {
  assertStoreKey('checkpoint key', key);
}
