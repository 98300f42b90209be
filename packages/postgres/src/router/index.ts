export type { TenantDirectoryTables, TenantPlacementsTable } from './directory-schema.js';
export type { MoveTenantOptions, MoveTenantResult } from './move-tenant.js';
export type { TenantPlacementStrategy } from './placement.js';
export type { TenantPlacement } from './tenant-directory.js';
export { TenantMoved, TenantMoveFailed, TenantNotFound } from './tenant-errors.js';
export { TenantRouter, type TenantRouterOptions } from './tenant-router.js';
