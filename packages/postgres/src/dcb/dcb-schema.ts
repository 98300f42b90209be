import { type Kysely, sql } from 'kysely';
import type { Migration } from 'kysely/migration';
import { taggedAppendFunction } from './tagged-append-function.js';

/**
 * Migration 0008: tags. `events.tags` (the event's tags, read back with it; null when none), the
 * `event_tags` table (one row per tag, B-tree on (tag, position): the index queries and append
 * conditions probe), an index on `events (type, position)` for queries by type, and the
 * `annals_append_tagged` function every append calls from this version on.
 */
export function eventTagsMigration(schema: string): Migration {
  const t = (table: string) => sql.id(schema, table);
  return {
    async up(db: Kysely<any>) {
      for (const statement of [
        sql`alter table ${t('events')} add column tags text[]`,
        sql`create table ${t('event_tags')} (
          tag text collate "C" not null,
          position bigint not null,
          type text not null,
          primary key (tag, position)
        )`,
        sql`create trigger event_tags_append_only before update or delete on ${t('event_tags')}
          for each statement execute function ${t('annals_reject_event_change')}()`,
        sql`create trigger event_tags_no_truncate before truncate on ${t('event_tags')}
          for each statement execute function ${t('annals_reject_event_change')}()`,
        sql`create index events_type_position on ${t('events')} (type, position)`,
        taggedAppendFunction(schema, '0008'),
      ]) {
        await statement.execute(db);
      }
    },
  };
}

/**
 * Migration 0012: `annals_append_tagged` again, same arguments, replaced in place (grants and callers
 * stay): the condition check of `condition-check.ts` with plans the plan cache keeps on a log of any
 * size (0008's join was planned anew on every call once the log was large), condition items read
 * without a statement each, and `'any'` on an existing stream as a plain UPDATE.
 */
export function indexedConditionMigration(schema: string): Migration {
  return {
    async up(db: Kysely<any>) {
      await taggedAppendFunction(schema, '0012').execute(db);
    },
  };
}
