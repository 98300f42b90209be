import { InvalidArgument } from '../errors/store-errors.js';
import type { CheckpointSaveOptions, CheckpointStore } from './checkpoint-store.js';
import type { LeaseStore } from './lease-store.js';
import { LeaseLost } from './projection-errors.js';

/** Options of {@link InMemoryCheckpointStore}. */
export interface InMemoryCheckpointStoreOptions {
  /** When given, a save also requires its `owner` to hold the unexpired lease on the key. */
  readonly leases?: LeaseStore;
}

/**
 * A {@link CheckpointStore} in process memory, with the same compare-and-swap semantics as the
 * database one. It joins no transaction: a runner without a `transaction` saves the checkpoint after
 * every event, so a failing handler never makes it re-apply the events before it.
 */
export class InMemoryCheckpointStore implements CheckpointStore<undefined> {
  readonly #positions = new Map<string, bigint>();
  readonly #leases: LeaseStore | undefined;

  constructor(options: InMemoryCheckpointStoreOptions = {}) {
    this.#leases = options.leases;
  }

  async load(key: string): Promise<bigint | undefined> {
    return this.#positions.get(key);
  }

  async save(key: string, position: bigint, options: CheckpointSaveOptions<undefined>): Promise<void> {
    assertCheckpointArgs(key, position);
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
      throw new LeaseLost(
        key,
        options.owner,
        `the checkpoint moved: expected ${options.expected ?? 'none'}, found ${current ?? 'none'}`,
      );
    }
    this.#positions.set(key, position);
  }
}

/** Checks the arguments of a checkpoint save. Adapters reuse it so they refuse the same input. */
export function assertCheckpointArgs(key: string, position: bigint): void {
  if (typeof key !== 'string' || key.length === 0) {
    throw new InvalidArgument(`A checkpoint key must be a non-empty string, found ${JSON.stringify(key)}.`);
  }
  if (typeof position !== 'bigint' || position < 0n) {
    throw new InvalidArgument(`A checkpoint position must be a bigint >= 0, found ${String(position)}.`);
  }
}
