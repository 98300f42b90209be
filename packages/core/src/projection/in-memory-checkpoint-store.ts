import {
  assertCheckpointArgs,
  assertCheckpointKey,
  type CheckpointSaveOptions,
  type CheckpointStore,
} from './checkpoint-store.js';
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
 * with `leases`, a save by a runner that does not hold the lease throws `LeaseLost` (checked first:
 * a moved checkpoint under a lease still held is a `CheckpointConflict`). It joins no transaction: a
 * runner without a `transaction` saves the checkpoint after every event, so a failing handler never
 * makes it re-apply the events before it.
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
