import { assertTenantId, InvalidArgument } from '@annals/core';
import type { OpenedConnection } from '../connection/postgres-connection.js';
import { assertSchemaName } from '../schema/schema-name.js';

/**
 * The schema of one tenant of the store whose schema is `baseSchema`: `<base>_t_<tenant>`. Each
 * tenant has the whole set of Annals tables there (events, streams, checkpoints, leases, ...), so
 * no query of a tenant handle can reach another tenant's rows.
 */
export function tenantSchemaName(baseSchema: string, tenantId: unknown): string {
  assertTenantId(tenantId);
  const schema = `${baseSchema}_t_${tenantId}`;
  try {
    assertSchemaName(schema);
  } catch (error) {
    throw new InvalidArgument(
      `The schema of tenant ${tenantId} under "${baseSchema}" would be "${schema}", longer than the 50 characters a schema may have; use a shorter schema or tenant id.`,
      { cause: error },
    );
  }
  return schema;
}

/** The connection of a store, lent to its tenant handles: closing a handle leaves it open. */
export function lentConnection(connection: OpenedConnection): OpenedConnection {
  return {
    kysely: connection.kysely,
    multiProcess: connection.multiProcess,
    arrayRows: connection.arrayRows,
    listen: connection.listen,
    close: async () => {},
  };
}
