export {
  MigrationFailed,
  PermissionDenied,
  SchemaNotMigrated,
  StoreUnavailable,
  TransactionIdsRewound,
} from './postgres-errors.js';
