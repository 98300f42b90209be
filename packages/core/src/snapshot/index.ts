export { InMemorySnapshotStore } from './in-memory-snapshot-store.js';
export type { Snapshot, SnapshotOptions, SnapshotStore } from './snapshot-store.js';
