import { type Kysely, sql } from 'kysely';
import { orUnavailable } from '../store/unavailable.js';
import type { TenantDirectoryTables } from './directory-schema.js';

/** Where a tenant lives, as the directory records it. */
export interface TenantPlacement {
  readonly tenantId: string;
  /** The name of the database that holds the tenant. */
  readonly database: string;
  /** `moving` while a move to `movingTo` is under way (writes refused at the old place from its cut-over). */
  readonly state: 'active' | 'moving';
  readonly movingTo: string | undefined;
  readonly placedAt: Date;
}

interface Row {
  tenant_id: string;
  database: string;
  state: string;
  moving_to: string | null;
  placed_at: Date;
}

const toPlacement = (row: Row): TenantPlacement => ({
  tenantId: row.tenant_id,
  database: row.database,
  state: row.state === 'moving' ? 'moving' : 'active',
  movingTo: row.moving_to ?? undefined,
  placedAt: row.placed_at,
});

/**
 * The directory of a router: the `tenant_placements` table of one database's schema. Every change
 * is one statement or one transaction; a placement is inserted once and changes only through a move.
 */
export class TenantDirectory {
  readonly #db: Kysely<TenantDirectoryTables>;
  constructor(kysely: Kysely<any>, schema: string) {
    this.#db = kysely.withoutPlugins().withSchema(schema) as Kysely<TenantDirectoryTables>;
  }

  /** Every placement. */
  all(): Promise<TenantPlacement[]> {
    return orUnavailable('reading the tenant directory', async () =>
      (await this.#db.selectFrom('tenant_placements').selectAll().orderBy('tenant_id').execute()).map(
        toPlacement,
      ),
    );
  }

  /** The placement of one tenant, or undefined. */
  get(tenantId: string): Promise<TenantPlacement | undefined> {
    return orUnavailable(`reading the placement of tenant ${tenantId}`, async () => {
      const row = await this.#db
        .selectFrom('tenant_placements')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .executeTakeFirst();
      return row === undefined ? undefined : toPlacement(row);
    });
  }

  /**
   * Places a tenant unless it is placed already (then returns the existing placement): `choose`
   * gets the number of tenants per database. Creators are serialized by an advisory lock, so
   * least-loaded placement counts every earlier one.
   */
  place(tenantId: string, choose: (loads: ReadonlyMap<string, number>) => string): Promise<TenantPlacement> {
    return orUnavailable(`placing tenant ${tenantId}`, () =>
      this.#db.transaction().execute(async (tx) => {
        await sql`select pg_advisory_xact_lock(hashtext('annals_tenant_placement'))`.execute(tx);
        const existing = await tx
          .selectFrom('tenant_placements')
          .selectAll()
          .where('tenant_id', '=', tenantId)
          .executeTakeFirst();
        if (existing !== undefined) return toPlacement(existing);
        const counts = await tx
          .selectFrom('tenant_placements')
          .select(['database', sql<number>`count(*)::int`.as('n')])
          .groupBy('database')
          .execute();
        const database = choose(new Map(counts.map((c) => [c.database, c.n])));
        const row = await tx
          .insertInto('tenant_placements')
          .values({ tenant_id: tenantId, database, state: 'active' } as never)
          .returningAll()
          .executeTakeFirstOrThrow();
        return toPlacement(row);
      }),
    );
  }

  /** Marks the tenant moving to `to` (idempotent for the same target). */
  markMoving(tenantId: string, to: string): Promise<void> {
    return orUnavailable(`marking tenant ${tenantId} moving`, async () => {
      await this.#db
        .updateTable('tenant_placements')
        .set({ state: 'moving', moving_to: to, updated_at: sql`now()` } as never)
        .where('tenant_id', '=', tenantId)
        .execute();
    });
  }

  /** The cut-over: the tenant lives at `to` from now on. */
  markMoved(tenantId: string, to: string): Promise<void> {
    return orUnavailable(`recording the move of tenant ${tenantId}`, async () => {
      await this.#db
        .updateTable('tenant_placements')
        .set({ database: to, state: 'active', moving_to: null, updated_at: sql`now()` } as never)
        .where('tenant_id', '=', tenantId)
        .execute();
    });
  }
}
