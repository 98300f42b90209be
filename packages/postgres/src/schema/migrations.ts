import { type Kysely, sql } from 'kysely';
import type { Migration, MigrationProvider } from 'kysely/migration';
import { projectionMigration } from '../projection/projection-schema.js';

/** Name of the table (inside the store's schema) where Kysely's `Migrator` records applied migrations. */
export const MIGRATION_TABLE = 'annals_migration';
/** Name of the lock table Kysely's `Migrator` uses, inside the store's schema. */
export const MIGRATION_LOCK_TABLE = 'annals_migration_lock';

/** 2^20: the number of positions each transaction owns, hence the most events one transaction may append. */
export const EVENTS_PER_TRANSACTION = 1_048_576;

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
          appendFunction(schema),
        ]);
      },
    },
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
  async getMigrations(): Promise<Record<string, Migration>> {
    return annalsMigrations(this.#schema);
  }
}

/**
 * `annals_append(...)`: the whole append of one batch, called as one statement. A PL/pgSQL function
 * keeps its statements' plans for the session, so an append is not planned again on every call.
 *
 * 1. `v_first`: this transaction's first free position. Positions are `(xid << 20) + n`; `n` continues
 *    after rows the same transaction appended before (an index range probe on the primary key, skipped
 *    when the transaction has no id yet, as in every autocommit append).
 * 2. The stream row moves forward by the batch size, but only when the expected revision holds (a
 *    conditional UPDATE, or an INSERT for a new stream) AND the stream's last event lies below
 *    `v_first`. The row lock serialises writers of one stream; writers of other streams never meet.
 *    The second condition keeps a stream's revisions in position order: a writer whose transaction
 *    id is older than that of a writer who took the row lock first would otherwise put the later
 *    revision at the lower position. No row = nothing is written; the caller finds out why (a moved
 *    revision, or an older transaction id: an autocommit append then runs again with a new one).
 * 3. The batch is inserted from arrays through `unnest`, numbering revisions and positions.
 * 4. `p_channel` not null: one `pg_notify` (delivered by PostgreSQL at commit).
 */
function appendFunction(schema: string) {
  const streams = sql.id(schema, 'streams');
  const events = sql.id(schema, 'events');
  return sql`create function ${sql.id(schema, 'annals_append')}(
      p_stream_id text, p_category text, p_expected text, p_expected_revision bigint,
      p_ids uuid[], p_types text[], p_versions int4[], p_data jsonb[], p_metadata jsonb[], p_channel text)
    returns table (r_revision bigint, r_first_position bigint, r_last_position bigint)
    language plpgsql volatile as $$
    declare
      -- A transaction without an id has written nothing yet: its range is empty (no probe needed).
      v_fresh boolean := pg_current_xact_id_if_assigned() is null;
      v_xid xid8 := pg_current_xact_id();
      v_n bigint := cardinality(p_ids);
      v_low bigint := v_xid::text::bigint << 20;
      v_first bigint := v_low;
      v_revision bigint;
    begin
      if not v_fresh then
        select coalesce(max(e.position) + 1, v_low) into v_first from ${events} e
          where e.position >= v_low and e.position < v_low + ${sql.lit(EVENTS_PER_TRANSACTION)};
      end if;
      if p_expected = 'any' then
        insert into ${streams} as s (stream_id, category, revision, last_position)
          values (p_stream_id, p_category, v_n - 1, v_first + v_n - 1)
          on conflict (stream_id) do update
            set revision = s.revision + v_n, last_position = v_first + v_n - 1, updated_at = now()
            where s.last_position < v_first
          returning s.revision into v_revision;
      elsif p_expected = 'no_stream' then
        insert into ${streams} (stream_id, category, revision, last_position)
          values (p_stream_id, p_category, v_n - 1, v_first + v_n - 1)
          on conflict (stream_id) do nothing
          returning revision into v_revision;
      elsif p_expected = 'stream_exists' then
        update ${streams} s set revision = s.revision + v_n, last_position = v_first + v_n - 1, updated_at = now()
          where s.stream_id = p_stream_id and s.last_position < v_first
          returning s.revision into v_revision;
      else
        update ${streams} s set revision = s.revision + v_n, last_position = v_first + v_n - 1, updated_at = now()
          where s.stream_id = p_stream_id and s.revision = p_expected_revision and s.last_position < v_first
          returning s.revision into v_revision;
      end if;
      if v_revision is null then
        return;
      end if;
      if v_n = 1 then
        insert into ${events} (position, transaction_id, stream_id, revision, id, type, schema_version, data, metadata)
          values (v_first, v_xid, p_stream_id, v_revision, p_ids[1], p_types[1], p_versions[1], p_data[1], p_metadata[1]);
      else
        insert into ${events} (position, transaction_id, stream_id, revision, id, type, schema_version, data, metadata)
          select v_first + i.ord - 1, v_xid, p_stream_id, v_revision - v_n + i.ord,
            i.id, i.type, i.schema_version, i.data, i.metadata
          from unnest(p_ids, p_types, p_versions, p_data, p_metadata)
            with ordinality as i(id, type, schema_version, data, metadata, ord);
      end if;
      if p_channel is not null then
        perform pg_notify(p_channel, '');
      end if;
      r_revision := v_revision;
      r_first_position := v_first;
      r_last_position := v_first + v_n - 1;
      return next;
    end
    $$`;
}
