import { InvalidArgument } from '../errors/store-errors.js';
import { assertStreamId } from '../events/stream-id-check.js';
import { MAX_REVISION } from '../store/limits.js';

/**
 * The state of one aggregate at one revision, kept so that loading it need not replay the whole
 * stream. Snapshots are an optimisation only: deleting them never changes a loaded state.
 */
export interface Snapshot {
  /** The stream the snapshot summarises. */
  readonly streamId: string;
  /** The aggregate type (from `@Aggregate`) that took it. */
  readonly aggregateType: string;
  /** The aggregate's snapshot shape version when it was taken; another version is ignored on load. */
  readonly snapshotVersion: number;
  /** The revision of the last event the state includes. */
  readonly revision: bigint;
  /** The aggregate's `toSnapshot()` result. */
  readonly state: unknown;
  /** When it was taken. */
  readonly takenAt: Date;
}

/**
 * Where snapshots live. One snapshot per stream is enough: `save` replaces the stream's previous one,
 * unless that one has a higher revision (a slow writer's older snapshot never moves it back). An
 * implementation may keep older ones, but `load` must return the one of the highest revision.
 * `runSnapshotStoreConformance` from `@annals/testing` checks an implementation.
 *
 * @example
 * ```ts
 * const accounts = new Repository(BankAccount, { store, snapshots: { store: new InMemorySnapshotStore(), every: 100 } });
 * ```
 */
export interface SnapshotStore {
  /** The latest snapshot of `streamId`, or undefined. */
  load(streamId: string): Promise<Snapshot | undefined>;
  /** Stores `snapshot`, replacing the stream's previous one unless that one is newer. */
  save(snapshot: Snapshot): Promise<void>;
}

/** When and where a repository takes snapshots. */
export interface SnapshotOptions {
  /** Where to keep them. Default: a new `InMemorySnapshotStore` per repository (or per `Repositories`). */
  readonly store?: SnapshotStore;
  /**
   * Take a snapshot once this many events have been applied since the last snapshot (or since the
   * start of the stream). A positive integer; 100 is a good start.
   */
  readonly every: number;
  /**
   * Called when loading or saving a snapshot fails. The load or save of the aggregate itself goes on
   * (a snapshot is only an optimisation). Default: a process warning.
   */
  readonly onError?: (
    error: unknown,
    detail: { readonly streamId: string; readonly operation: 'load' | 'save' },
  ) => void;
}

/**
 * Checks the envelope of a snapshot to save: a stream id every store accepts (`assertStreamId`) and a
 * bigint revision from 0 to {@link MAX_REVISION}. Throws `InvalidArgument` naming what was found;
 * adapters reuse it so they refuse the same input.
 */
export function assertSnapshot(snapshot: Snapshot): void {
  if (typeof snapshot !== 'object' || snapshot === null) {
    throw new InvalidArgument(`A snapshot must be an object, found ${String(snapshot)}.`);
  }
  assertStreamId(snapshot.streamId);
  const { revision } = snapshot;
  if (typeof revision !== 'bigint' || revision < 0n) {
    throw new InvalidArgument(
      `The snapshot of ${snapshot.streamId} needs a bigint revision >= 0, found ${String(revision)}.`,
    );
  }
  if (revision > MAX_REVISION) {
    throw new InvalidArgument(
      `The snapshot of ${snapshot.streamId} needs a revision of at most ${MAX_REVISION} (2^63 - 1, MAX_REVISION), found ${revision}.`,
    );
  }
}
