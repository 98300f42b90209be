import { SchemaNotMigrated } from '../errors/postgres-errors.js';
import { sqlState } from '../store/database-errors.js';
import { toUnavailable } from '../store/unavailable.js';

/**
 * Runs a statement on the table `table` of `schema`: a missing table is `SchemaNotMigrated` (the
 * schema predates migration 0006), a lost connection `StoreUnavailable`; no driver error escapes.
 */
export async function onMessagingTable<T>(
  schema: string,
  table: string,
  operation: string,
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (sqlState(error) === '42P01') {
      throw new SchemaNotMigrated(schema, `no ${table} table (migration 0006_outbox_inbox_idempotency)`, {
        cause: error,
      });
    }
    throw toUnavailable(operation, error);
  }
}
