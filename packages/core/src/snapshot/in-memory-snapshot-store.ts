import { InvalidArgument } from '../errors/store-errors.js';
import type { Snapshot, SnapshotStore } from './snapshot-store.js';

/**
 * A {@link SnapshotStore} in process memory: snapshots live as long as the object. Each snapshot is
 * copied (structured clone) on the way in and out, so nobody can change a stored one by reference.
 */
export class InMemorySnapshotStore implements SnapshotStore {
  readonly #snapshots = new Map<string, Snapshot>();

  async load(streamId: string): Promise<Snapshot | undefined> {
    const snapshot = this.#snapshots.get(streamId);
    return snapshot === undefined ? undefined : structuredClone(snapshot);
  }

  async save(snapshot: Snapshot): Promise<void> {
    if (typeof snapshot?.streamId !== 'string' || snapshot.streamId.length === 0) {
      throw new InvalidArgument(
        `A snapshot needs a non-empty streamId, found ${JSON.stringify(snapshot?.streamId)}.`,
      );
    }
    if (typeof snapshot.revision !== 'bigint' || snapshot.revision < 0n) {
      throw new InvalidArgument(
        `The snapshot of ${snapshot.streamId} needs a bigint revision >= 0, found ${String(snapshot.revision)}.`,
      );
    }
    // A slow writer's older snapshot must not move the stream's snapshot back.
    const stored = this.#snapshots.get(snapshot.streamId);
    if (stored !== undefined && stored.revision > snapshot.revision) return;
    this.#snapshots.set(snapshot.streamId, structuredClone(snapshot));
  }

  /** Removes the snapshot of `streamId` (loads then replay the whole stream). */
  async delete(streamId: string): Promise<void> {
    this.#snapshots.delete(streamId);
  }

  /** Removes every snapshot. */
  async clear(): Promise<void> {
    this.#snapshots.clear();
  }

  /** How many streams have a snapshot. */
  get size(): number {
    return this.#snapshots.size;
  }
}
