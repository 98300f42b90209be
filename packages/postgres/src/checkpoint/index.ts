export { PostgresCheckpointStore } from './postgres-checkpoint-store.js';
export { PostgresLeasedCheckpointStore } from './postgres-leased-checkpoint-store.js';
