export { PostgresSnapshotStore } from './postgres-snapshot-store.js';
