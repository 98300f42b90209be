import { type Kysely, sql } from 'kysely';

/**
 * The cold part of the log (in migration `0011_tenants_and_archive`): `events_archive`, with the
 * columns and checks of `events` and an `archived_at`, append-only like it. Partitioning `events`
 * itself is not an additive change (its primary key and the unique event id would have to include
 * the partition key, and the table be rewritten), so the cold part is a table of its own.
 *
 * `events` stays append-only for everything but the move: its row-level delete trigger lets a row go
 * only inside an archiving transaction (`annals.archiving` set locally) and only when the same event
 * (position and id) is in `events_archive` already. Updates and truncation are refused as before.
 */
export async function createArchive(db: Kysely<any>, schema: string): Promise<void> {
  const t = (table: string) => sql.id(schema, table);
  const statements = [
    sql`create table ${t('events_archive')} (
      like ${t('events')} including defaults including constraints,
      archived_at timestamptz not null default now(),
      constraint events_archive_pkey primary key (position),
      constraint events_archive_id_key unique (id),
      constraint events_archive_stream_revision_key unique (stream_id, revision)
    )`,
    sql`create trigger events_archive_append_only before update or delete on ${t('events_archive')}
      for each statement execute function ${t('annals_reject_event_change')}()`,
    sql`create trigger events_archive_no_truncate before truncate on ${t('events_archive')}
      for each statement execute function ${t('annals_reject_event_change')}()`,
    sql`create function ${t('annals_archive_move')}() returns trigger language plpgsql as ${sql.lit(`
      begin
        if coalesce(current_setting('annals.archiving', true), '') = 'on'
           and exists (select 1 from ${quoteIdent(schema)}.events_archive a where a.position = old.position and a.id = old.id) then
          return old;
        end if;
        raise exception 'the Annals event log %.% is append-only: DELETE is not allowed', tg_table_schema, tg_table_name
          using errcode = 'restrict_violation';
      end`)}`,
    // A DELETE outside an archiving transaction is refused as a statement, even one that matches no row.
    sql`create function ${t('annals_archive_gate')}() returns trigger language plpgsql as ${sql.lit(`
      begin
        if coalesce(current_setting('annals.archiving', true), '') = 'on' then
          return null;
        end if;
        raise exception 'the Annals event log %.% is append-only: DELETE is not allowed', tg_table_schema, tg_table_name
          using errcode = 'restrict_violation';
      end`)}`,
    sql`drop trigger events_append_only on ${t('events')}`,
    sql`create trigger events_append_only before update on ${t('events')}
      for each statement execute function ${t('annals_reject_event_change')}()`,
    sql`create trigger events_delete_only_when_archiving before delete on ${t('events')}
      for each statement execute function ${t('annals_archive_gate')}()`,
    sql`create trigger events_delete_only_to_archive before delete on ${t('events')}
      for each row execute function ${t('annals_archive_move')}()`,
  ];
  // One statement per query: PGlite runs every query through the extended protocol.
  for (const statement of statements) await statement.execute(db);
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
