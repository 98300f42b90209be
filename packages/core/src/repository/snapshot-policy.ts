import { InvalidArgument } from '../errors/store-errors.js';
import { InMemorySnapshotStore } from '../snapshot/in-memory-snapshot-store.js';
import type { SnapshotOptions, SnapshotStore } from '../snapshot/snapshot-store.js';

/** A repository's snapshot options, checked, with the defaults filled in. */
export interface SnapshotPolicy {
  readonly store: SnapshotStore;
  readonly every: bigint;
  readonly onError: NonNullable<SnapshotOptions['onError']>;
}

const warnOnSnapshotError: SnapshotPolicy['onError'] = (error, { streamId, operation }) => {
  process.emitWarning(
    `Annals could not ${operation} the snapshot of ${streamId}; the aggregate was ${
      operation === 'load' ? 'rebuilt from its events' : 'saved without it'
    }: ${(error as Error)?.message ?? String(error)}`,
    { code: 'ANNALS_SNAPSHOT' },
  );
};

/** Checks `options.snapshots` of `Repository<aggregateType>` and fills in the defaults. */
export function toPolicy(aggregateType: string, options: SnapshotOptions): SnapshotPolicy {
  const every = options?.every;
  if (typeof every !== 'number' || !Number.isSafeInteger(every) || every < 1) {
    throw new InvalidArgument(
      `Repository<${aggregateType}> expects snapshots.every to be a positive integer, found ${String(every)}.`,
    );
  }
  return {
    store: options.store ?? new InMemorySnapshotStore(),
    every: BigInt(every),
    onError: options.onError ?? warnOnSnapshotError,
  };
}
