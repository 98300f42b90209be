export {
  type ForgottenSubjectsTable,
  type PersonalDataKeysTable,
  type PersonalDataTables,
  personalDataMigration,
} from './personal-data-schema.js';
export { PostgresKeyStore } from './postgres-key-store.js';
