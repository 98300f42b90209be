import { sql } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * Migration 0010: the hash chain over the event log and its signed checkpoints. Additive: the events
 * table and the append path are untouched; `sealChain` fills `event_chain` after the fact. Both tables
 * refuse UPDATE, DELETE and TRUNCATE like the events table (the same trigger function).
 */
export function chainMigration(schema: string): Migration {
  const t = (table: string) => sql.id(schema, table);
  const statements = [
    // One row per sealed event, in position order: its hash chains it to the row before it.
    sql`create table ${t('event_chain')} (
      position bigint primary key,
      previous_position bigint,
      stream_id text not null,
      revision bigint not null check (revision >= 0),
      hash bytea not null check (length(hash) = 32),
      sealed_at timestamptz not null default now(),
      constraint event_chain_follows check (previous_position < position)
    )`,
    // A signed statement "the chain's hash at `position` is `hash`" (Ed25519).
    sql`create table ${t('event_chain_checkpoints')} (
      position bigint primary key,
      hash bytea not null check (length(hash) = 32),
      key_id text not null,
      signature bytea not null,
      signed_at timestamptz not null default now()
    )`,
    ...['event_chain', 'event_chain_checkpoints'].flatMap((table) => [
      sql`create trigger ${sql.id(`${table}_append_only`)} before update or delete on ${t(table)}
        for each statement execute function ${t('annals_reject_event_change')}()`,
      sql`create trigger ${sql.id(`${table}_no_truncate`)} before truncate on ${t(table)}
        for each statement execute function ${t('annals_reject_event_change')}()`,
    ]),
  ];
  return {
    async up(db) {
      // One statement per query: PGlite runs every query through the extended protocol.
      for (const statement of statements) await statement.execute(db);
    },
  };
}
