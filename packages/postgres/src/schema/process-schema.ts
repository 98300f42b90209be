import { type Kysely, sql } from 'kysely';
import type { Migration } from 'kysely/migration';

/** The `process_states` table: one row per process manager instance, its state and progress. */
export interface ProcessStatesTable {
  readonly process: string;
  readonly key: string;
  readonly state: unknown;
  /** Position of the last input applied to the instance. bigint, selected as text. */
  readonly position: string;
  /** Its pending timers by name: `{ dueAt, scheduledBy }`. */
  readonly timers: unknown;
  readonly completed: boolean;
  readonly updated_at: Date;
}

/** The `process_timers` table: pending durable timers, claimed by one runner at a time when due. */
export interface ProcessTimersTable {
  readonly process: string;
  readonly key: string;
  readonly name: string;
  readonly due_at: Date;
  readonly message: unknown;
  readonly scheduled_by: string;
  /** The runner that claimed it to fire it, until `claimed_until`. */
  readonly claimed_by: string | null;
  readonly claimed_until: Date | null;
}

/** The `process_commands` table: the outcome of each command a process manager sent, by command id. */
export interface ProcessCommandsTable {
  readonly command_id: string;
  /** `{ ok: true }` or `{ ok: false, error: { name, message, code? } }`. */
  readonly outcome: unknown;
  readonly recorded_at: Date;
}

/** The process manager tables as Kysely sees them inside the store's schema. */
export interface ProcessTables {
  readonly process_states: ProcessStatesTable;
  readonly process_timers: ProcessTimersTable;
  readonly process_commands: ProcessCommandsTable;
}

/**
 * The migration that creates the process manager tables in `schema` (`0007_process_timers`);
 * `annalsMigrations` lists it, so `store.migrate()` creates them with the rest.
 */
export function processMigration(schema: string): Migration {
  const t = (table: string) => sql.id(schema, table);
  return {
    async up(db: Kysely<any>) {
      // One statement per query: PGlite runs every query through the extended protocol.
      for (const statement of [
        sql`create table ${t('process_states')} (
          process text not null,
          key text not null,
          state jsonb not null,
          position bigint not null check (position >= 0),
          timers jsonb not null,
          completed boolean not null,
          updated_at timestamptz not null default now(),
          primary key (process, key)
        )`,
        sql`create table ${t('process_timers')} (
          process text not null,
          key text not null,
          name text not null,
          due_at timestamptz not null,
          message jsonb not null,
          scheduled_by text not null,
          claimed_by text,
          claimed_until timestamptz,
          primary key (process, key, name)
        )`,
        sql`create index process_timers_due_idx on ${t('process_timers')} (due_at)`,
        sql`create table ${t('process_commands')} (
          command_id text primary key,
          outcome jsonb not null,
          recorded_at timestamptz not null default now()
        )`,
      ]) {
        await statement.execute(db);
      }
    },
  };
}
