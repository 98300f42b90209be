import type { AggregateRoot } from '../aggregate/aggregate-root.js';
import { InMemorySnapshotStore } from '../snapshot/in-memory-snapshot-store.js';
import type { SnapshotStore } from '../snapshot/snapshot-store.js';
import type { EventStore } from '../store/event-store.js';
import { type AggregateClass, Repository, type RepositoryOptions } from './repository.js';

/**
 * One {@link Repository} per aggregate class, all sharing a store, a snapshot store and a stream id
 * strategy. It is what `registerAnnals` puts in the container and what `@InjectRepository` reads;
 * use it directly when you wire things by hand.
 *
 * @example
 * ```ts
 * const repositories = new Repositories({ store, snapshots: { every: 100 } });
 * const accounts = repositories.get(BankAccount); // the same instance on every call
 * ```
 */
export class Repositories {
  /** The event store every repository reads and writes. */
  readonly store: EventStore;
  /** The shared snapshot store, when snapshots are on. */
  readonly snapshotStore: SnapshotStore | undefined;
  readonly #options: RepositoryOptions;
  readonly #repositories = new Map<Function, Repository<AggregateRoot>>();

  constructor(options: RepositoryOptions) {
    this.store = options.store;
    this.snapshotStore =
      options.snapshots === undefined ? undefined : (options.snapshots.store ?? new InMemorySnapshotStore());
    this.#options =
      options.snapshots === undefined
        ? options
        : { ...options, snapshots: { ...options.snapshots, store: this.snapshotStore! } };
  }

  /** The repository of `aggregate`, created on first use. */
  get<T extends AggregateRoot>(aggregate: AggregateClass<T>): Repository<T> {
    let repository = this.#repositories.get(aggregate);
    if (repository === undefined) {
      repository = new Repository(aggregate, this.#options) as unknown as Repository<AggregateRoot>;
      this.#repositories.set(aggregate, repository);
    }
    return repository as unknown as Repository<T>;
  }
}
