import { type ColumnType, type Kysely, sql } from 'kysely';
import type { Migration } from 'kysely/migration';
import type { InboxFailuresTable } from '../messaging/inbox-failures-schema.js';

/**
 * The `idempotency_records` table: the commands that succeeded, by command id, written in the
 * transaction of their appends (see `PostgresIdempotencyStore`).
 */
export interface IdempotencyRecordsTable {
  readonly command_id: string;
  readonly command_type: string;
  /** The validated payload as JSON, to tell a true repeat from a reused id. */
  readonly payload: string;
  /** What the handler returned, as JSON text; null when it returned undefined. */
  readonly result: string | null;
  readonly recorded_at: ColumnType<Date, never, never>;
}

/**
 * The `inbox_messages` table: the messages each consumer has handled, written in the transaction of
 * their effects (see `PostgresInbox`).
 */
export interface InboxMessagesTable {
  readonly consumer: string;
  readonly message_id: string;
  readonly handled_at: ColumnType<Date, never, never>;
}

/** The tables of commands and messages as Kysely sees them inside the store's schema. */
export interface MessagingTables {
  readonly idempotency_records: IdempotencyRecordsTable;
  readonly inbox_messages: InboxMessagesTable;
  readonly inbox_failures: InboxFailuresTable;
}

/**
 * The migration that creates the idempotency records and the inbox in `schema` (the outbox needs no
 * table of its own: it publishes from the event log, with a checkpoint). `annalsMigrations` lists it.
 */
export function messagingMigration(schema: string): Migration {
  const t = (table: string) => sql.id(schema, table);
  return {
    async up(db: Kysely<any>) {
      // One statement per query: PGlite runs every query through the extended protocol.
      for (const statement of [
        sql`create table ${t('idempotency_records')} (
          command_id text primary key,
          command_type text not null,
          payload text not null,
          result text,
          recorded_at timestamptz not null default now()
        )`,
        sql`create table ${t('inbox_messages')} (
          consumer text not null,
          message_id text not null,
          handled_at timestamptz not null default now(),
          primary key (consumer, message_id)
        )`,
      ]) {
        await statement.execute(db);
      }
    },
  };
}
