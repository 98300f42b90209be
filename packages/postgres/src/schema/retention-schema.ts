import { type Kysely, sql } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * The migration that indexes the records `prune` removes by age (`0014_retention_indexes`): the
 * idempotency records and process command outcomes by when they were written, the inbox by consumer
 * and when each message was handled. A prune then reads only the rows it removes, in batches.
 * `annalsMigrations` lists it.
 */
export function retentionMigration(schema: string): Migration {
  const t = (table: string) => sql.id(schema, table);
  return {
    async up(db: Kysely<any>) {
      // One statement per query: PGlite runs every query through the extended protocol.
      for (const statement of [
        sql`create index idempotency_records_recorded_at_idx on ${t('idempotency_records')} (recorded_at)`,
        sql`create index inbox_messages_handled_at_idx on ${t('inbox_messages')} (consumer, handled_at)`,
        sql`create index process_commands_recorded_at_idx on ${t('process_commands')} (recorded_at)`,
      ]) {
        await statement.execute(db);
      }
    },
  };
}
