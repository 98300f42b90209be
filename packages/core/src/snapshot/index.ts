export { InMemorySnapshotStore } from './in-memory-snapshot-store.js';
export { assertSnapshot, type Snapshot, type SnapshotOptions, type SnapshotStore } from './snapshot-store.js';
