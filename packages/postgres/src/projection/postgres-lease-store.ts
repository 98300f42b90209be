import type { Lease, LeaseStore } from '@annals/core';
import {
  assertLeaseArgs,
  assertLeaseKeyAndOwner,
  assertLeasePrefix,
  assertStoreKey,
} from '@annals/core/adapter';
import { type Kysely, sql } from 'kysely';
import { assertSchemaName } from '../schema/schema-name.js';
import type { AnnalsTablesLocation } from '../schema/tables.js';
import { orUnavailable } from '../store/unavailable.js';

/** Rows of expired leases under a listed prefix (members of crashed runners) are deleted after this long. */
const PURGE_AFTER = "interval '1 day'";

interface LeaseRow {
  readonly key: string;
  readonly owner: string;
  readonly expires_at: Date | string;
  readonly heartbeat_at: Date | string;
}

/**
 * The {@link LeaseStore} on PostgreSQL: one row per key in `projection_leases` (created by
 * `store.migrate()`). Every operation is a single statement in its own transaction: a claim takes
 * the row when it is ours or expired (`SELECT ... FOR UPDATE SKIP LOCKED`, then `UPDATE`), or creates
 * it (`INSERT ... ON CONFLICT DO NOTHING`); the row lock of that statement decides between concurrent
 * claimants and ends with it. No session-level advisory lock is held, so it works through
 * transaction-pooling connection poolers (PgBouncer). Times come from the database's clock
 * (`clock_timestamp()`), so the nodes' clocks need not agree.
 *
 * @example
 * ```ts
 * const leases = new PostgresLeaseStore(store);
 * if (await leases.acquire('balances', 'node-1', 10_000)) { ... }
 * ```
 */
export class PostgresLeaseStore implements LeaseStore {
  readonly #location: AnnalsTablesLocation;

  constructor(location: AnnalsTablesLocation) {
    assertSchemaName(location?.schema);
    this.#location = location;
  }

  async acquire(key: string, owner: string, ttlMs: number): Promise<boolean> {
    return orUnavailable(`acquiring lease ${key}`, async () => {
      assertLeaseArgs(key, owner, ttlMs);
      const table = this.#table();
      const expiry = sql`clock_timestamp() + ${toMs(ttlMs)}::integer * interval '1 millisecond'`;
      // Take the row if it is ours or expired. SKIP LOCKED: a row another node is claiming or renewing
      // at this instant counts as taken (we try again at the next poll) instead of making us wait.
      const claimed = await sql<{ owner: string }>`
        update ${table} as l set
          owner = ${owner},
          expires_at = ${expiry},
          heartbeat_at = clock_timestamp(),
          acquired_at = case when l.owner = ${owner} then l.acquired_at else clock_timestamp() end
        from (
          select key from ${table}
          where key = ${key} and (owner = ${owner} or expires_at <= clock_timestamp())
          for update skip locked
        ) as free
        where l.key = free.key
        returning l.owner`.execute(this.#db());
      if (claimed.rows.length === 1) return true;
      // No row we may take: either the key is new (create it, ours) or someone else holds it.
      const created = await sql<{ owner: string }>`
        insert into ${table} (key, owner, expires_at, heartbeat_at, acquired_at)
        values (${key}, ${owner}, ${expiry}, clock_timestamp(), clock_timestamp())
        on conflict (key) do nothing
        returning owner`.execute(this.#db());
      return created.rows.length === 1;
    });
  }

  async renew(key: string, owner: string, ttlMs: number): Promise<boolean> {
    return orUnavailable(`renewing lease ${key}`, async () => {
      assertLeaseArgs(key, owner, ttlMs);
      const { rows } = await sql<{ key: string }>`
        update ${this.#table()}
        set expires_at = clock_timestamp() + ${toMs(ttlMs)}::integer * interval '1 millisecond', heartbeat_at = clock_timestamp()
        where key = ${key} and owner = ${owner}
        returning key`.execute(this.#db());
      return rows.length === 1;
    });
  }

  async release(key: string, owner: string): Promise<void> {
    return orUnavailable(`releasing lease ${key}`, async () => {
      assertLeaseKeyAndOwner(key, owner);
      await sql`delete from ${this.#table()} where key = ${key} and owner = ${owner}`.execute(this.#db());
    });
  }

  async list(prefix: string): Promise<readonly Lease[]> {
    return orUnavailable(`listing the leases under ${prefix}`, async () => {
      assertLeasePrefix(prefix);
      const table = this.#table();
      // Deleting long-expired rows under the prefix keeps crashed runners' memberships from piling up.
      const { rows } = await sql<LeaseRow>`
        with purged as (
          delete from ${table}
          where starts_with(key, ${prefix}::text) and expires_at < clock_timestamp() - ${sql.raw(PURGE_AFTER)}
        )
        select key, owner, expires_at, heartbeat_at from ${table}
        where starts_with(key, ${prefix}::text) and expires_at > clock_timestamp()
        order by key`.execute(this.#db());
      return rows.map(toLease);
    });
  }

  async get(key: string): Promise<Lease | undefined> {
    return orUnavailable(`reading lease ${key}`, async () => {
      assertStoreKey('lease key', key);
      const { rows } = await sql<LeaseRow>`
        select key, owner, expires_at, heartbeat_at from ${this.#table()}
        where key = ${key} and expires_at > clock_timestamp()`.execute(this.#db());
      return rows[0] === undefined ? undefined : toLease(rows[0]);
    });
  }

  #table() {
    return sql.id(this.#location.schema, 'projection_leases');
  }

  #db(): Kysely<any> {
    return this.#location.kysely.withoutPlugins();
  }
}

function toMs(ttlMs: number): number {
  return Math.max(1, Math.round(ttlMs));
}

function toLease(row: LeaseRow): Lease {
  return Object.freeze({
    key: row.key,
    owner: row.owner,
    expiresAt: new Date(row.expires_at),
    heartbeatAt: new Date(row.heartbeat_at),
  });
}
