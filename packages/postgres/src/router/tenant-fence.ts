import { type Kysely, sql } from 'kysely';
import { TenantMoved } from './tenant-errors.js';

/** The SQLSTATE the fence raises (class AN is not used by PostgreSQL). */
const FENCE_STATE = 'AN001';

/**
 * Refuses every further append to a tenant's schema (`events` inserts) with {@link TenantMoved}:
 * a trigger created in the same statement order everywhere, so a writer that routed before the move
 * (another process, a stale cache) cannot add events the copy would miss. Creating the trigger
 * waits for appends in flight to commit. Idempotent.
 */
export async function fenceTenant(
  db: Kysely<any>,
  tenantSchema: string,
  tenantId: string,
  movedTo: string,
): Promise<void> {
  const detail = JSON.stringify({ tenantId, movedTo });
  await db.transaction().execute(async (tx) => {
    await sql`create or replace function ${sql.id(tenantSchema, 'annals_tenant_moved')}() returns trigger language plpgsql as ${sql.lit(
      `begin raise exception 'tenant ${tenantId} moved to database ${movedTo}' using errcode = '${FENCE_STATE}', detail = ${quoteLiteral(detail)}; end`,
    )}`.execute(tx);
    await sql`drop trigger if exists events_tenant_moved on ${sql.id(tenantSchema, 'events')}`.execute(tx);
    await sql`create trigger events_tenant_moved before insert on ${sql.id(tenantSchema, 'events')}
      for each statement execute function ${sql.id(tenantSchema, 'annals_tenant_moved')}()`.execute(tx);
  });
}

/** Lets a tenant's schema take appends again: a tenant moving back to a database it left. */
export async function unfenceTenant(db: Kysely<any>, tenantSchema: string): Promise<void> {
  await sql`drop trigger if exists events_tenant_moved on ${sql.id(tenantSchema, 'events')}`.execute(db);
}

/** The {@link TenantMoved} error a fenced append raised, or undefined for any other error. */
export function tenantMovedOf(error: unknown): TenantMoved | undefined {
  const { code, detail } = (error ?? {}) as { code?: unknown; detail?: unknown };
  if (code !== FENCE_STATE || typeof detail !== 'string') return undefined;
  try {
    const { tenantId, movedTo } = JSON.parse(detail) as { tenantId: string; movedTo: string };
    return new TenantMoved(tenantId, movedTo, { cause: error });
  } catch {
    return undefined;
  }
}

function quoteLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
