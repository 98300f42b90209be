import { assertTenantId, InvalidArgument } from '@annals/core';
import { sql } from 'kysely';
import { verifySchema } from '../schema/verify.js';
import type { PostgresEventStore } from '../store/postgres-event-store.js';
import { toUnavailable } from '../store/unavailable.js';
import { tenantGrantStatements } from './tenant-role-grants.js';
import { tenantSchemaName } from './tenant-schema.js';

/** A role name used unquoted-safe: a letter or underscore, then letters, digits, `_` or `$`, at most 63. */
const ROLE_NAME = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;

/**
 * Gives the existing PostgreSQL role `role` what a tenant handle (`store.forTenant(tenantId)`) needs
 * in that tenant's schema, and nothing on the base schema or other tenants: USAGE on the schema, the
 * table privileges appends, reads, subscriptions, checkpoints, leases, projections, idempotency,
 * process managers and personal-data keys use (no UPDATE or DELETE on the event log) and EXECUTE
 * on the append functions. A store opened with that role's connection (without `migrate()`) then
 * works for this tenant; another tenant's handle is refused with `PermissionDenied`.
 *
 * Run it as the schema owner after `store.forTenant(tenantId).migrate()`, on the base store. All
 * grants run in one transaction. Throws `InvalidTenantId` for a bad tenant id, `InvalidArgument`
 * for a role name that is not a plain identifier, a role that does not exist or a tenant handle
 * passed as `store`, and `SchemaNotMigrated` when the tenant's schema is not migrated; nothing is
 * granted then. Revoking is not offered: drop the tenant's schema, or revoke all in it.
 */
export async function grantTenantRole(
  store: PostgresEventStore,
  tenantId: string,
  role: string,
): Promise<void> {
  if (store.tenantId !== undefined) {
    throw new InvalidArgument(
      `grantTenantRole takes the base store, found the handle of tenant ${store.tenantId}.`,
    );
  }
  assertTenantId(tenantId);
  if (typeof role !== 'string' || !ROLE_NAME.test(role)) {
    throw new InvalidArgument(
      `role must be a PostgreSQL role name of letters, digits, _ or $ (not starting with a digit, at most 63 characters), found ${JSON.stringify(role)}.`,
    );
  }
  const schema = tenantSchemaName(store.schema, tenantId);
  try {
    await store.kysely.transaction().execute(async (tx) => {
      const roles = await sql<{
        n: number;
      }>`select count(*)::int as n from pg_roles where rolname = ${role}`.execute(tx);
      if (roles.rows[0]?.n !== 1) {
        throw new InvalidArgument(
          `role ${role} does not exist; create it first (create role ${role} login).`,
        );
      }
      // Throws SchemaNotMigrated unless the tenant's schema has every migration.
      await verifySchema(tx, schema, { allowUnmigrated: false });
      for (const statement of tenantGrantStatements(schema, role)) await statement.execute(tx);
    });
  } catch (error) {
    throw toUnavailable(`granting tenant ${tenantId} to role ${role}`, error);
  }
}
