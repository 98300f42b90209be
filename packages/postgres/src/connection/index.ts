export type {
  KyselyConnection,
  PGliteConnection,
  PGliteInstance,
  PostgresConnectionOptions,
  PostgresPoolOptions,
  PostgresServerConnection,
} from './postgres-connection.js';
