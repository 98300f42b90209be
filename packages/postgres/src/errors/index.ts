export {
  MigrationFailed,
  SchemaNotMigrated,
  StoreUnavailable,
  TransactionIdsRewound,
} from './postgres-errors.js';
