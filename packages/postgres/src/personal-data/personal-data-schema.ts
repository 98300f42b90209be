import { type Kysely, sql } from 'kysely';
import type { Migration } from 'kysely/migration';

/** The `personal_data_keys` table: every key version of every data subject not forgotten. */
export interface PersonalDataKeysTable {
  readonly subject: string;
  readonly version: number;
  readonly key: Uint8Array;
  readonly created_at: Date;
}

/** The `forgotten_subjects` table: subjects whose keys were destroyed, and when. */
export interface ForgottenSubjectsTable {
  readonly subject: string;
  readonly forgotten_at: Date;
}

/** The tables of `PostgresKeyStore`, for typing a Kysely instance. */
export interface PersonalDataTables {
  readonly personal_data_keys: PersonalDataKeysTable;
  readonly forgotten_subjects: ForgottenSubjectsTable;
}

/**
 * The migration that creates the key store tables in `schema` (`0009_personal_data_keys`);
 * `annalsMigrations` lists it, so `store.migrate()` creates them with the rest.
 */
export function personalDataMigration(schema: string): Migration {
  const t = (table: string) => sql.id(schema, table);
  return {
    async up(db: Kysely<any>) {
      for (const statement of [
        sql`create table ${t('personal_data_keys')} (
          subject text not null,
          version integer not null check (version >= 1),
          key bytea not null check (length(key) = 32),
          created_at timestamptz not null default now(),
          primary key (subject, version)
        )`,
        sql`create table ${t('forgotten_subjects')} (
          subject text primary key,
          forgotten_at timestamptz not null default now()
        )`,
      ]) {
        await statement.execute(db);
      }
    },
  };
}
