export { type AnnalsTablesLocation, PostgresCheckpointStore } from './postgres-checkpoint-store.js';
