import { type Kysely, sql } from 'kysely';

/**
 * Fills a migrated schema with `count` tagged events (at most 2^20, one transaction's positions) in
 * one transaction of plain SQL: 100 events per stream, each event with two tags (`pf-a:<i>`,
 * `pf-b:<i % 1000>`), so the `event_tags` index holds 2 * count entries. Far faster than appends; the
 * rows look exactly as appends write them.
 */
export async function prefill(db: Kysely<any>, schema: string, count: number): Promise<void> {
  const t = (table: string) => sql.id(schema, table);
  await db.transaction().execute(async (tx) => {
    await sql`insert into ${t('events')} (position, transaction_id, stream_id, revision, id, type, schema_version, data, metadata, tags)
      select (pg_current_xact_id()::text::bigint << 20) + g, pg_current_xact_id(), 'prefill-' || (g / 100),
        g % 100, gen_random_uuid(), 'Prefilled', 1, jsonb_build_object('n', g), '{}'::jsonb,
        array['pf-a:' || g, 'pf-b:' || (g % 1000)]
      from generate_series(0, ${count - 1}) g`.execute(tx);
    await sql`insert into ${t('event_tags')} (tag, position, type)
      select unnest(tags), position, type from ${t('events')} where type = 'Prefilled'`.execute(tx);
    await sql`insert into ${t('streams')} (stream_id, category, revision, last_position)
      select stream_id, 'prefill', max(revision), max(position) from ${t('events')}
      where type = 'Prefilled' group by stream_id`.execute(tx);
  });
  await sql`analyze ${t('events')}`.execute(db);
  await sql`analyze ${t('event_tags')}`.execute(db);
}
