import { type ColumnType, type Kysely, sql } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * The `inbox_failures` table: the failed attempts of messages a consumer has not handled yet, and the
 * messages it gave up on (`dead_lettered_at`), see `PostgresInbox`'s `maxAttempts`.
 */
export interface InboxFailuresTable {
  readonly consumer: string;
  readonly message_id: string;
  readonly attempts: number;
  /** The last failure: the error's name, code when it has one, and message. */
  readonly error: string;
  readonly first_failed_at: ColumnType<Date, never, never>;
  readonly last_failed_at: ColumnType<Date, never, Date>;
  readonly dead_lettered_at: ColumnType<Date | null, never, Date | null>;
}

/**
 * The migration that creates `inbox_failures` in `schema` (`0015_inbox_failures`); `annalsMigrations`
 * lists it.
 */
export function inboxFailuresMigration(schema: string): Migration {
  return {
    async up(db: Kysely<any>) {
      await sql`create table ${sql.id(schema, 'inbox_failures')} (
        consumer text not null,
        message_id text not null,
        attempts integer not null,
        error text not null,
        first_failed_at timestamptz not null default now(),
        last_failed_at timestamptz not null default now(),
        dead_lettered_at timestamptz,
        primary key (consumer, message_id)
      )`.execute(db);
    },
  };
}
