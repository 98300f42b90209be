export type { OpenTransaction, PostgresDiagnostics, PreparedTransaction } from './diagnostics.js';
