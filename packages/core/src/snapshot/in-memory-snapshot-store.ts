import { assertStreamId } from '../events/stream-id-check.js';
import { assertSnapshot, type Snapshot, type SnapshotStore } from './snapshot-store.js';

/**
 * A {@link SnapshotStore} in process memory: snapshots live as long as the object. Each snapshot is
 * copied (structured clone) on the way in and out, so nobody can change a stored one by reference.
 */
export class InMemorySnapshotStore implements SnapshotStore {
  readonly #snapshots = new Map<string, Snapshot>();

  async load(streamId: string): Promise<Snapshot | undefined> {
    assertStreamId(streamId);
    const snapshot = this.#snapshots.get(streamId);
    return snapshot === undefined ? undefined : structuredClone(snapshot);
  }

  async save(snapshot: Snapshot): Promise<void> {
    assertSnapshot(snapshot);
    // A slow writer's older snapshot must not move the stream's snapshot back.
    const stored = this.#snapshots.get(snapshot.streamId);
    if (stored !== undefined && stored.revision > snapshot.revision) return;
    this.#snapshots.set(snapshot.streamId, structuredClone(snapshot));
  }

  /** Removes the snapshot of `streamId` (loads then replay the whole stream). */
  async delete(streamId: string): Promise<void> {
    assertStreamId(streamId);
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
