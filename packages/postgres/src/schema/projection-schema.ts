import { type Kysely, sql } from 'kysely';
import type { Migration } from 'kysely/migration';

/** The `projection_leases` table: who runs each projection (or shard, or membership) and until when. */
export interface ProjectionLeasesTable {
  readonly key: string;
  readonly owner: string;
  readonly expires_at: Date;
  readonly heartbeat_at: Date;
  readonly acquired_at: Date;
}

/** The `projection_dead_letters` table: poison events skipped under a `'dead-letter'` policy. */
export interface ProjectionDeadLettersTable {
  readonly id: string;
  readonly projection: string;
  readonly key: string;
  readonly event_id: string;
  readonly event_type: string;
  readonly stream_id: string;
  readonly position: string;
  readonly error: string;
  readonly stack: string | null;
  readonly attempts: number;
  readonly recorded_at: Date;
}

/** The `projection_pauses` table: one row per paused projection (created by `0005_projection_pause`). */
export interface ProjectionPausesTable {
  readonly name: string;
  readonly paused_at: Date;
}

/** The projection tables as Kysely sees them inside the store's schema. */
export interface ProjectionTables {
  readonly projection_leases: ProjectionLeasesTable;
  readonly projection_dead_letters: ProjectionDeadLettersTable;
  readonly projection_pauses: ProjectionPausesTable;
  readonly checkpoints: { readonly name: string; readonly position: string; readonly updated_at: Date };
}

/**
 * The migration that creates the projection tables in `schema`; `annalsMigrations` lists it, so
 * `store.migrate()` creates them with the rest.
 */
export function projectionMigration(schema: string): Migration {
  const t = (table: string) => sql.id(schema, table);
  return {
    async up(db: Kysely<any>) {
      // One statement per query: PGlite runs every query through the extended protocol.
      for (const statement of [
        sql`create table ${t('projection_leases')} (
          key text primary key,
          owner text not null,
          expires_at timestamptz not null,
          heartbeat_at timestamptz not null default clock_timestamp(),
          acquired_at timestamptz not null default clock_timestamp()
        )`,
        sql`create table ${t('projection_dead_letters')} (
          id bigint generated always as identity primary key,
          projection text not null,
          key text not null,
          event_id uuid not null,
          event_type text not null,
          stream_id text not null,
          position bigint not null,
          error text not null,
          stack text,
          attempts integer not null,
          recorded_at timestamptz not null default now()
        )`,
        sql`create index projection_dead_letters_projection_idx on ${t('projection_dead_letters')} (projection, id)`,
      ]) {
        await statement.execute(db);
      }
    },
  };
}

/**
 * The migration `0005_projection_pause`: the `projection_pauses` table, where
 * `PostgresProjectionControl` records paused projections for every runner to see.
 */
export function projectionPauseMigration(schema: string): Migration {
  return {
    async up(db: Kysely<any>) {
      await sql`create table ${sql.id(schema, 'projection_pauses')} (
        name text primary key,
        paused_at timestamptz not null default clock_timestamp()
      )`.execute(db);
    },
  };
}
