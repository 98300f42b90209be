import { createHash } from 'node:crypto';
import { InvalidArgument } from '@annals/core';

/**
 * How a router places a new tenant: `'hash'` (a stable hash of the id over the databases, sorted by
 * name), `'least-loaded'` (the database holding the fewest tenants, ties by name), or a function of
 * the id and the number of tenants per database that returns a database name. Used once, at
 * creation: the directory keeps the placement after that, whatever the strategy would say later.
 */
export type TenantPlacementStrategy =
  | 'hash'
  | 'least-loaded'
  | ((tenantId: string, loads: ReadonlyMap<string, number>) => string);

const DATABASE_NAME = /^[a-z0-9_]{1,32}$/;

/** Checks a router database name: 1 to 32 lower-case letters, digits or `_`. */
export function assertDatabaseName(name: string): void {
  if (!DATABASE_NAME.test(name)) {
    throw new InvalidArgument(
      `A TenantRouter database name must be 1 to 32 lower-case letters, digits or _, found ${JSON.stringify(name)}.`,
    );
  }
}

/** The database `strategy` chooses for `tenantId` among `names`. */
export function choosePlacement(
  strategy: TenantPlacementStrategy,
  tenantId: string,
  names: readonly string[],
  loads: ReadonlyMap<string, number>,
): string {
  const sorted = [...names].sort();
  if (strategy === 'hash') {
    const bucket = createHash('sha256').update(tenantId).digest().readUInt32BE(0) % sorted.length;
    return sorted[bucket]!;
  }
  if (strategy === 'least-loaded') {
    return sorted.reduce((best, name) => ((loads.get(name) ?? 0) < (loads.get(best) ?? 0) ? name : best));
  }
  const chosen = strategy(tenantId, loads);
  if (!names.includes(chosen)) {
    throw new InvalidArgument(
      `The placement function chose database ${JSON.stringify(chosen)} for tenant ${tenantId}, expected one of ${sorted.join(', ')}.`,
    );
  }
  return chosen;
}
