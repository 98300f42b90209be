import { AnnalsError } from '@annals/core';

declare module '@annals/core' {
  interface AnnalsErrorCodes {
    TENANT_NOT_FOUND: true;
    TENANT_MOVED: true;
    TENANT_MOVE_FAILED: true;
  }
}

/** The router's directory has no placement for the tenant: create it first (`router.createTenant`). */
export class TenantNotFound extends AnnalsError {
  readonly tenantId: string;
  constructor(tenantId: string) {
    super(
      'TENANT_NOT_FOUND',
      `Expected tenant ${tenantId} in the tenant directory, found no placement; create it with router.createTenant('${tenantId}') first.`,
    );
    this.tenantId = tenantId;
  }
}

/**
 * A write reached a tenant's old place: the tenant was moved to another database (or its move is in
 * its cut-over). Nothing was written. `router.withTenant` routes again and retries; a handle of the
 * old place keeps refusing writes.
 */
export class TenantMoved extends AnnalsError {
  readonly tenantId: string;
  /** The database the tenant moved (or is moving) to. */
  readonly movedTo: string;
  constructor(tenantId: string, movedTo: string, options?: { cause?: unknown }) {
    super(
      'TENANT_MOVED',
      `Expected to write tenant ${tenantId} where it lives, found its old place: it moved to database ${movedTo}; nothing was written. Route the write again (router.withTenant does).`,
      options,
    );
    this.tenantId = tenantId;
    this.movedTo = movedTo;
  }
}

/**
 * `moveTenant` could not finish: the copy did not verify, or the old place kept events the copy
 * could not reach in time. The tenant stays `moving` with writes refused at the old place; run
 * `moveTenant` again to resume (it copies only what is missing and verifies again).
 */
export class TenantMoveFailed extends AnnalsError {
  readonly tenantId: string;
  constructor(tenantId: string, reason: string, options?: { cause?: unknown }) {
    super(
      'TENANT_MOVE_FAILED',
      `Moving tenant ${tenantId} did not finish: ${reason}. It stays moving, writes refused at the old place; run moveTenant again to resume.`,
      options,
    );
    this.tenantId = tenantId;
  }
}
