import { InvalidArgument } from '../errors/store-errors.js';
import { MAX_POSITION } from '../store/limits.js';
import { assertStoreKey } from '../store/store-key.js';
import type { CheckpointSaveOptions, CheckpointStore } from './checkpoint-store.js';
import type { LeaseStore } from './lease-store.js';
import { CheckpointConflict, LeaseLost } from './projection-errors.js';

/** Options of {@link InMemoryCheckpointStore}. */
export interface InMemoryCheckpointStoreOptions {
  /** When given, a save also requires its `owner` to hold the unexpired lease on the key. */
  readonly leases?: LeaseStore;
}

/**
 * A {@link CheckpointStore} in process memory, with the same compare-and-swap semantics as the
 * database one: a save from a position other than the stored one throws {@link CheckpointConflict};
 * with `leases`, a save by a runner that does not hold the lease throws `LeaseLost`. It joins no transaction: a runner without a `transaction` saves the checkpoint after
 * every event, so a failing handler never makes it re-apply the events before it.
 */
export class InMemoryCheckpointStore implements CheckpointStore<undefined> {
  readonly #positions = new Map<string, bigint>();
  readonly #leases: LeaseStore | undefined;

  constructor(options: InMemoryCheckpointStoreOptions = {}) {
    this.#leases = options.leases;
  }

  async load(key: string): Promise<bigint | undefined> {
    assertCheckpointKey(key);
    return this.#positions.get(key);
  }

  async save(key: string, position: bigint, options: CheckpointSaveOptions<undefined>): Promise<void> {
    assertCheckpointArgs(key, position, options?.expected, options?.owner);
    if (this.#leases !== undefined) {
      const lease = await this.#leases.get(key);
      if (lease === undefined || lease.owner !== options.owner) {
        throw new LeaseLost(
          key,
          options.owner,
          lease === undefined ? 'its lease expired' : `the lease is held by ${lease.owner}`,
        );
      }
    }
    const current = this.#positions.get(key);
    if (current !== options.expected) {
      throw new CheckpointConflict(key, { expected: options.expected, found: current, owner: options.owner });
    }
    this.#positions.set(key, position);
  }
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
