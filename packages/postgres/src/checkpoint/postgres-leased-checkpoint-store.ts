import {
  CheckpointConflict,
  type CheckpointSaveOptions,
  type CheckpointStore,
  LeaseLost,
} from '@annals/core';
import { type Kysely, sql, type Transaction } from 'kysely';
import { assertSchemaName } from '../schema/schema-name.js';
import type { AnnalsTablesLocation } from '../schema/tables.js';
import { swapCheckpoint } from './checkpoint-swap.js';
import { PostgresCheckpointStore } from './postgres-checkpoint-store.js';

/**
 * A {@link CheckpointStore} whose compare-and-swap checks the lease too: one statement moves the
 * checkpoint only if it still holds the expected position AND the saving runner holds the
 * unexpired lease on the key (`projection_leases`, by the database clock at the moment of the
 * write). Zero rows writes nothing and throws, and the batch's transaction (which it joins) rolls
 * back: `LeaseLost` when the runner no longer holds the lease (taken, released or expired), else
 * `CheckpointConflict` when the checkpoint moved under the lease it still holds. So a runner that
 * was paused past its lease (GC, network) cannot commit a late batch over its successor's.
 *
 * `PostgresProjectionRunner` uses it whenever leases are on; without an `owner` it is a plain
 * compare-and-swap.
 */
export class PostgresLeasedCheckpointStore implements CheckpointStore<Transaction<any>> {
  readonly #location: AnnalsTablesLocation;
  readonly #plain: PostgresCheckpointStore;

  constructor(location: AnnalsTablesLocation) {
    assertSchemaName(location?.schema);
    this.#location = location;
    this.#plain = new PostgresCheckpointStore(location);
  }

  load(key: string): Promise<bigint | undefined> {
    return this.#plain.load(key);
  }

  async save(key: string, position: bigint, options: CheckpointSaveOptions<Transaction<any>>): Promise<void> {
    const owner = options?.owner;
    if (owner === undefined) return this.#plain.save(key, position, options);
    const expected = options.expected;
    const db = (options.transaction ?? this.#location.kysely).withoutPlugins() as Kysely<any>;
    return swapCheckpoint(key, position, options, true, {
      write: async () => {
        const checkpoints = sql.id(this.#location.schema, 'checkpoints');
        const leases = sql.id(this.#location.schema, 'projection_leases');
        const leaseHeld = sql`exists (
          select 1 from ${leases} where key = ${key} and owner = ${owner} and expires_at > clock_timestamp())`;
        const { rows } =
          expected === undefined
            ? await sql<{ name: string }>`
                insert into ${checkpoints} (name, position)
                select ${key}, ${position.toString()}::bigint where ${leaseHeld}
                on conflict (name) do nothing
                returning name`.execute(db)
            : await sql<{ name: string }>`
                update ${checkpoints} set position = ${position.toString()}::bigint, updated_at = now()
                where name = ${key} and position = ${expected.toString()}::bigint and ${leaseHeld}
                returning name`.execute(db);
        return rows.length === 1;
      },
      conflict: () => this.#conflict(db, key, owner, expected),
    });
  }

  /**
   * Which half of the compare-and-swap failed: the lease first (a runner that lost it no longer owns
   * the key, whatever the checkpoint holds), then the position.
   */
  async #conflict(db: Kysely<any>, key: string, owner: string, expected: bigint | undefined): Promise<Error> {
    const { rows } = await sql<{ position: string | null; holder: string | null; live: boolean | null }>`
      select
        (select position::text from ${sql.id(this.#location.schema, 'checkpoints')} where name = ${key}) as position,
        l.owner as holder, l.expires_at > clock_timestamp() as live
      from (select 1) as one
      left join ${sql.id(this.#location.schema, 'projection_leases')} as l on l.key = ${key}`.execute(db);
    const row = rows[0];
    if (row?.holder === null || row?.holder === undefined)
      return new LeaseLost(key, owner, 'it holds no lease');
    if (row.holder !== owner) return new LeaseLost(key, owner, `the lease is held by ${row.holder}`);
    if (!row.live) return new LeaseLost(key, owner, 'its lease expired');
    const found = row.position === null ? undefined : BigInt(row.position);
    if (found !== expected) return new CheckpointConflict(key, { expected, found, owner });
    return new LeaseLost(key, owner, 'the lease changed during the write');
  }
}
