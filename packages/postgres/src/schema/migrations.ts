import { type Kysely, sql } from 'kysely';
import type { Migration, MigrationProvider } from 'kysely/migration';
import { createArchive } from '../archive/archive-schema.js';
import { chainMigration } from '../chain/chain-schema.js';
import { eventTagsMigration, indexedConditionMigration } from '../dcb/dcb-schema.js';
import { inboxFailuresMigration } from '../messaging/inbox-failures-schema.js';
import { personalDataMigration } from '../personal-data/personal-data-schema.js';
import { createTenantDirectory } from '../router/directory-schema.js';
import { appendFunction } from '../store/append-function.js';
import { groupAppendFunction } from '../store/group-append-function.js';
import { messagingMigration } from './messaging-schema.js';
import { processMigration } from './process-schema.js';
import { projectionMigration, projectionPauseMigration } from './projection-schema.js';
import { retentionMigration } from './retention-schema.js';

/** Name of the table (inside the store's schema) where Kysely's `Migrator` records applied migrations. */
export const MIGRATION_TABLE = 'annals_migration';
/** Name of the lock table Kysely's `Migrator` uses, inside the store's schema. */
export const MIGRATION_LOCK_TABLE = 'annals_migration_lock';

/**
 * The migrations of one schema, in order. Names sort in the order they run; a released migration is
 * never edited, only followed by a new one.
 */
export function annalsMigrations(schema: string): Record<string, Migration> {
  const t = (table: string) => sql.id(schema, table);
  const run = async (db: Kysely<any>, statements: readonly ReturnType<typeof sql>[]) => {
    // One statement per query: PGlite runs every query through the extended protocol.
    for (const statement of statements) await statement.execute(db);
  };
  return {
    '0001_event_log': {
      async up(db) {
        await run(db, [
          sql`create schema if not exists ${sql.id(schema)}`,
          sql`create table ${t('streams')} (
            stream_id text primary key,
            category text not null,
            revision bigint not null check (revision >= 0),
            created_at timestamptz not null default now(),
            updated_at timestamptz not null default now()
          )`,
          // position = (transaction_id << 20) + index within the transaction; the check keeps every
          // row inside its transaction's range, which is what makes position order commit-safe.
          sql`create table ${t('events')} (
            position bigint primary key,
            transaction_id xid8 not null,
            stream_id text not null,
            revision bigint not null check (revision >= 0),
            id uuid not null,
            type text not null,
            schema_version integer not null check (schema_version >= 1),
            data jsonb not null,
            metadata jsonb not null,
            recorded_at timestamptz not null default now(),
            constraint events_id_key unique (id),
            constraint events_stream_revision_key unique (stream_id, revision),
            constraint events_position_in_transaction check ((position >> 20) = (transaction_id::text::bigint))
          )`,
          sql`create function ${t('annals_reject_event_change')}() returns trigger language plpgsql as $$
            begin
              raise exception 'the Annals event log %.% is append-only: % is not allowed', tg_table_schema, tg_table_name, tg_op
                using errcode = 'restrict_violation';
            end
          $$`,
          sql`create trigger events_append_only before update or delete on ${t('events')}
            for each statement execute function ${t('annals_reject_event_change')}()`,
          sql`create trigger events_no_truncate before truncate on ${t('events')}
            for each statement execute function ${t('annals_reject_event_change')}()`,
        ]);
      },
    },
    '0002_checkpoints_and_snapshots': {
      async up(db) {
        await run(db, [
          sql`create table ${t('checkpoints')} (
            name text primary key,
            position bigint not null check (position >= 0),
            updated_at timestamptz not null default now()
          )`,
          sql`create table ${t('snapshots')} (
            stream_id text primary key,
            aggregate_type text not null,
            snapshot_version integer not null,
            revision bigint not null check (revision >= 0),
            state jsonb not null,
            taken_at timestamptz not null
          )`,
        ]);
      },
    },
    '0003_projection_leases_and_dead_letters': projectionMigration(schema),
    '0004_stream_order_and_append_function': {
      async up(db) {
        await run(db, [
          // The position of each stream's last event: an append must place its events above it, so a
          // stream's revisions keep their order in the global log (see annals_append).
          sql`alter table ${t('streams')} add column last_position bigint not null default -1`,
          sql`update ${t('streams')} s set last_position = e.last_position
            from (select stream_id, max(position) as last_position from ${t('events')} group by stream_id) e
            where e.stream_id = s.stream_id`,
          // The function's text lives beside the statement that calls it (store/append-function.ts).
          appendFunction(schema),
        ]);
      },
    },
    '0005_projection_pause': projectionPauseMigration(schema),
    '0006_outbox_inbox_idempotency': messagingMigration(schema),
    '0007_process_timers': processMigration(schema),
    '0008_event_tags': eventTagsMigration(schema),
    '0009_personal_data_keys': personalDataMigration(schema),
    '0010_event_chain': chainMigration(schema),
    // The tenant directory of a TenantRouter, and the cold part of the log (events_archive).
    '0011_tenants_and_archive': {
      async up(db) {
        await createTenantDirectory(db, schema);
        await createArchive(db, schema);
      },
    },
    '0012_indexed_append_condition': indexedConditionMigration(schema),
    // Group commit: several autocommit appends in one statement and one transaction.
    '0013_group_append': {
      async up(db) {
        await run(db, [groupAppendFunction(schema)]);
      },
    },
    '0014_retention_indexes': retentionMigration(schema),
    '0015_inbox_failures': inboxFailuresMigration(schema),
  };
}

/** The name of the newest migration this version of the package ships. */
export const LATEST_MIGRATION = Object.keys(annalsMigrations('annals')).sort().at(-1)!;

/** Hands the in-code migrations of one schema to Kysely's `Migrator`. */
export class AnnalsMigrationProvider implements MigrationProvider {
  readonly #schema: string;
  constructor(schema: string) {
    this.#schema = schema;
  }
  /** The migrations of `@annals/postgres`, by name, in the order they run. */
  async getMigrations(): Promise<Record<string, Migration>> {
    return annalsMigrations(this.#schema);
  }
}
