/**
 * The injection tokens `registerAnnals` registers. Inject with tsyringe's `@inject(token)`; they do not
 * depend on emitted decorator metadata.
 *
 * @example
 * ```ts
 * constructor(@inject(AnnalsTokens.EventStore) private readonly store: EventStore) {}
 * ```
 */
export const AnnalsTokens = Object.freeze({
  /** The `EventStore`. */
  EventStore: Symbol.for('annals.EventStore'),
  /** The `SnapshotStore` (registered only when snapshots are on). */
  SnapshotStore: Symbol.for('annals.SnapshotStore'),
  /** The `Repositories` registry (one `Repository` per aggregate class). */
  Repositories: Symbol.for('annals.Repositories'),
  /** The `CommandBus`. */
  CommandBus: Symbol.for('annals.CommandBus'),
});
