export {
  AnnalsMigrationProvider,
  annalsMigrations,
  EVENTS_PER_TRANSACTION,
  LATEST_MIGRATION,
  MIGRATION_LOCK_TABLE,
  MIGRATION_TABLE,
} from './migrations.js';
export { assertSchemaName, DEFAULT_SCHEMA, notificationChannel } from './schema-name.js';
export type { AnnalsTables, CheckpointsTable, EventsTable, SnapshotsTable, StreamsTable } from './tables.js';
