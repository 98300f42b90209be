import type { PausedProjection, ProjectionControl } from '@annals/core';
import { assertPausedName } from '@annals/core/adapter';
import type { Kysely } from 'kysely';
import { SchemaNotMigrated } from '../errors/postgres-errors.js';
import type { ProjectionTables } from '../schema/projection-schema.js';
import { assertSchemaName } from '../schema/schema-name.js';
import { annalsDb } from '../schema/schema-scoped-kysely.js';
import type { AnnalsTablesLocation } from '../schema/tables.js';
import { sqlState } from '../store/database-errors.js';
import { orUnavailable } from '../store/unavailable.js';

/**
 * The {@link ProjectionControl} on PostgreSQL: a row per paused projection in the
 * `projection_pauses` table (migration `0005_projection_pause`), so every runner on the database,
 * in any process, sees a pause. `PostgresProjectionRunner` uses it by default; `annals projections
 * pause <name>` writes the same row.
 *
 * @example
 * ```ts
 * const control = new PostgresProjectionControl(store);
 * await control.pause('balances'); // every runner stops applying it within its poll interval
 * await control.resume('balances');
 * ```
 */
export class PostgresProjectionControl implements ProjectionControl {
  readonly #location: AnnalsTablesLocation;

  constructor(location: AnnalsTablesLocation) {
    assertSchemaName(location?.schema);
    this.#location = location;
  }

  async pause(name: string): Promise<void> {
    return this.#run(`pausing projection ${name}`, async () => {
      assertPausedName(name);
      await this.#db()
        .insertInto('projection_pauses')
        .values({ name } as never)
        .onConflict((c) => c.column('name').doNothing())
        .execute();
    });
  }

  async resume(name: string): Promise<void> {
    return this.#run(`resuming projection ${name}`, async () => {
      assertPausedName(name);
      await this.#db().deleteFrom('projection_pauses').where('name', '=', name).execute();
    });
  }

  async isPaused(name: string): Promise<boolean> {
    return this.#run(`reading whether projection ${name} is paused`, async () => {
      assertPausedName(name);
      const row = await this.#db()
        .selectFrom('projection_pauses')
        .select('name')
        .where('name', '=', name)
        .executeTakeFirst();
      return row !== undefined;
    });
  }

  async listPaused(): Promise<readonly PausedProjection[]> {
    return this.#run('listing paused projections', async () => {
      const rows = await this.#db()
        .selectFrom('projection_pauses')
        .select(['name', 'paused_at'])
        .orderBy('name')
        .execute();
      return rows.map((row) => Object.freeze({ name: row.name, pausedAt: new Date(row.paused_at) }));
    });
  }

  /** Runs `work`: a lost connection is `StoreUnavailable`, a missing table `SchemaNotMigrated`. */
  #run<T>(operation: string, work: () => Promise<T>): Promise<T> {
    return orUnavailable(operation, async () => {
      try {
        return await work();
      } catch (error) {
        if (sqlState(error) !== '42P01') throw error;
        throw new SchemaNotMigrated(this.#location.schema, 'no projection_pauses table', { cause: error });
      }
    });
  }

  #db(): Kysely<ProjectionTables> {
    return annalsDb<ProjectionTables>(this.#location.kysely, this.#location.schema);
  }
}
