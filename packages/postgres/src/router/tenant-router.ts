import { assertTenantId, InvalidArgument, isAnnalsError } from '@annals/core';
import type { PostgresEventStore } from '../store/postgres-event-store.js';
import { copyAndFence, type MoveTenantOptions, type MoveTenantResult } from './move-tenant.js';
import { assertDatabaseName, choosePlacement, type TenantPlacementStrategy } from './placement.js';
import { TenantDirectory, type TenantPlacement } from './tenant-directory.js';
import { TenantNotFound } from './tenant-errors.js';

/** Options of {@link TenantRouter.open}. */
export interface TenantRouterOptions {
  /** The databases by name (1 to 32 lower-case letters, digits or `_`): each a normal Annals store. */
  readonly databases: Readonly<Record<string, PostgresEventStore>>;
  /** The database whose schema holds the directory (`tenant_placements`). Default: the first name. */
  readonly directory?: string;
  /** How new tenants are placed. Default `'hash'`. */
  readonly placement?: TenantPlacementStrategy;
}

/**
 * Routes tenants over several PostgreSQL databases, each a normal Annals store with its own global
 * order; a tenant lives in one of them (in its own schema, see `PostgresEventStore.forTenant`).
 * Placements are recorded in a directory table of one database and cached here: once made, a
 * placement changes only through {@link moveTenant}. When a database is down, only its tenants
 * fail (`StoreUnavailable`); a directory that is down blocks only new placements and moves.
 *
 * @example
 * ```ts
 * const router = await TenantRouter.open({ databases: { eu1, eu2, eu3 }, placement: 'least-loaded' });
 * await router.createTenant('acme');
 * await router.withTenant('acme', (store) => store.append('order-1', [OrderPlaced.create({ total: 5 })]));
 * ```
 */
export class TenantRouter {
  /** The databases by name. */
  readonly databases: ReadonlyMap<string, PostgresEventStore>;
  readonly #directory: TenantDirectory;
  readonly #strategy: TenantPlacementStrategy;
  readonly #placements = new Map<string, TenantPlacement>();

  private constructor(options: TenantRouterOptions) {
    const names = Object.keys(options.databases ?? {});
    if (names.length === 0)
      throw new InvalidArgument('TenantRouter expects at least one database, found none.');
    for (const name of names) assertDatabaseName(name);
    this.databases = new Map(Object.entries(options.databases));
    const directory = options.directory ?? names[0]!;
    const home = this.databases.get(directory);
    if (home === undefined) {
      throw new InvalidArgument(
        `TenantRouter directory must name one of ${names.join(', ')}, found ${directory}.`,
      );
    }
    this.#directory = new TenantDirectory(home.kysely, home.schema);
    this.#strategy = options.placement ?? 'hash';
  }

  /**
   * Opens a router and loads the directory (`StoreUnavailable` when the directory's database cannot
   * be reached). The databases' schemas must be migrated (see {@link migrate}).
   */
  static async open(options: TenantRouterOptions): Promise<TenantRouter> {
    const router = new TenantRouter(options);
    await router.tenants();
    return router;
  }

  /** Migrates every database's schema and every placed tenant's schema (idempotent). */
  async migrate(): Promise<void> {
    for (const store of this.databases.values()) await store.migrate();
    for (const placement of await this.tenants())
      await this.#store(placement.database).forTenant(placement.tenantId).migrate();
  }

  /** Every placement in the directory (and refreshes the cache). */
  async tenants(): Promise<TenantPlacement[]> {
    const all = await this.#directory.all();
    this.#placements.clear();
    for (const placement of all) this.#placements.set(placement.tenantId, placement);
    return all;
  }

  /** The tenants the cache places on `database`. */
  tenantsOn(database: string): string[] {
    return [...this.#placements.values()].filter((p) => p.database === database).map((p) => p.tenantId);
  }

  /**
   * Places a new tenant (on `database` when given, else by the strategy) and migrates its schema
   * there. A tenant placed already keeps its placement (returned as it is).
   */
  async createTenant(
    tenantId: string,
    options: { readonly database?: string } = {},
  ): Promise<TenantPlacement> {
    assertTenantId(tenantId);
    if (options.database !== undefined) this.#store(options.database);
    const names = [...this.databases.keys()];
    const placement = await this.#directory.place(
      tenantId,
      (loads) => options.database ?? choosePlacement(this.#strategy, tenantId, names, loads),
    );
    this.#placements.set(tenantId, placement);
    await this.#store(placement.database).forTenant(tenantId).migrate();
    return placement;
  }

  /** Where a tenant lives: from the cache, else the directory (`TenantNotFound` when not placed). */
  async placement(tenantId: string, options: { readonly refresh?: boolean } = {}): Promise<TenantPlacement> {
    assertTenantId(tenantId);
    const cached = options.refresh === true ? undefined : this.#placements.get(tenantId);
    if (cached !== undefined) return cached;
    const found = await this.#directory.get(tenantId);
    if (found === undefined) throw new TenantNotFound(tenantId);
    this.#placements.set(tenantId, found);
    return found;
  }

  /** The tenant's store handle at its database (see `PostgresEventStore.forTenant`). */
  async tenant(tenantId: string): Promise<PostgresEventStore> {
    const placement = await this.placement(tenantId);
    return this.#store(placement.database).forTenant(tenantId);
  }

  /**
   * Runs `work` on the tenant's store. When the tenant moved since this router cached its placement
   * (`TenantMoved` from the old place, nothing written), reads the directory again and runs it at
   * the new place; while the move is in its cut-over, waits for it (checking every 100 ms, at most
   * `moveWaitMs`, default 30000, then the `TenantMoved` is thrown). A database that is down raises
   * `StoreUnavailable` for its tenants only.
   */
  async withTenant<T>(
    tenantId: string,
    work: (store: PostgresEventStore) => Promise<T>,
    options: { readonly moveWaitMs?: number } = {},
  ): Promise<T> {
    const deadline = Date.now() + (options.moveWaitMs ?? 30_000);
    let store = await this.tenant(tenantId);
    for (;;) {
      try {
        return await work(store);
      } catch (error) {
        if (!isAnnalsError(error) || error.code !== 'TENANT_MOVED' || Date.now() > deadline) throw error;
        const placement = await this.placement(tenantId, { refresh: true });
        const next = this.#store(placement.database).forTenant(tenantId);
        if (next === store) await new Promise((resolve) => setTimeout(resolve, 100));
        store = next;
      }
    }
  }

  /**
   * Moves a tenant to database `to`: marks it moving in the directory, copies its events while it
   * keeps taking writes, fences the old place (appends there raise `TenantMoved` from then on),
   * copies the rest, verifies both places hold the same events, and records the new placement.
   * Explicit and resumable: after a failure (`TenantMoveFailed`, `StoreUnavailable`) run it again
   * with the same target. Projections of the tenant at the new place start from its beginning there
   * (positions are the new database's); the old place keeps its events, read-only.
   */
  async moveTenant(tenantId: string, to: string, options: MoveTenantOptions = {}): Promise<MoveTenantResult> {
    const target = this.#store(to);
    const placement = await this.placement(tenantId, { refresh: true });
    if (placement.state === 'moving' && placement.movingTo !== to) {
      throw new InvalidArgument(
        `Tenant ${tenantId} is moving to ${placement.movingTo}; resume that move before moving it to ${to}.`,
      );
    }
    if (placement.database === to) {
      throw new InvalidArgument(`Tenant ${tenantId} lives at ${to} already; a move needs another database.`);
    }
    await this.#directory.markMoving(tenantId, to);
    const result = await copyAndFence(
      tenantId,
      { name: placement.database, store: this.#store(placement.database) },
      { name: to, store: target },
      options,
    );
    await this.#directory.markMoved(tenantId, to);
    await this.placement(tenantId, { refresh: true });
    return result;
  }

  #store(name: string): PostgresEventStore {
    const store = this.databases.get(name);
    if (store === undefined) {
      throw new InvalidArgument(
        `Expected a database of this router (${[...this.databases.keys()].join(', ')}), found ${name}.`,
      );
    }
    return store;
  }
}
