import { type Kysely, sql } from 'kysely';

/**
 * The `tenant_placements` table: the directory of a `TenantRouter`, one row per tenant naming the
 * database that holds it. Only the directory database's table is used; a move marks the row
 * `moving` (with its target) until the cut-over commits.
 */
export interface TenantPlacementsTable {
  readonly tenant_id: string;
  readonly database: string;
  /** `active`, or `moving` while a move to `moving_to` is under way. */
  readonly state: string;
  readonly moving_to: string | null;
  readonly placed_at: Date;
  readonly updated_at: Date;
}

/** The directory table as Kysely sees it inside the store's schema. */
export interface TenantDirectoryTables {
  readonly tenant_placements: TenantPlacementsTable;
}

/** Creates the tenant directory in `schema` (part of migration `0011_tenants_and_archive`). Additive. */
export async function createTenantDirectory(db: Kysely<any>, schema: string): Promise<void> {
  await sql`create table ${sql.id(schema, 'tenant_placements')} (
        tenant_id text primary key,
        database text not null,
        state text not null default 'active' check (state in ('active', 'moving')),
        moving_to text,
        placed_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        check ((state = 'moving') = (moving_to is not null))
      )`.execute(db);
}
