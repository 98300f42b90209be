export {
  type IdempotencyRecordsTable,
  type InboxMessagesTable,
  type MessagingTables,
  messagingMigration,
} from './messaging-schema.js';
export {
  AnnalsMigrationProvider,
  annalsMigrations,
  LATEST_MIGRATION,
  MIGRATION_LOCK_TABLE,
  MIGRATION_TABLE,
} from './migrations.js';
export {
  type ProcessCommandsTable,
  type ProcessStatesTable,
  type ProcessTables,
  type ProcessTimersTable,
  processMigration,
} from './process-schema.js';
export {
  type ProjectionDeadLettersTable,
  type ProjectionLeasesTable,
  type ProjectionTables,
  projectionMigration,
} from './projection-schema.js';
export { assertSchemaName, DEFAULT_SCHEMA, notificationChannel } from './schema-name.js';
export { readSchemaState, type SchemaState } from './schema-state.js';
export type {
  AnnalsTables,
  AnnalsTablesLocation,
  CheckpointsTable,
  EventsTable,
  SnapshotsTable,
  StreamsTable,
} from './tables.js';
export type { MigrationReport } from './verify.js';
