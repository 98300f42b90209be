import type { Projection } from '@annals/core';
import type { Kysely } from 'kysely';
import type { AnnalsTables } from '../schema/tables.js';
import type { PostgresEventStore } from '../store/postgres-event-store.js';
import { PostgresDeadLetterStore } from './postgres-dead-letter-store.js';
import { PostgresEventLogStats } from './postgres-event-log-stats.js';
import { PostgresLeaseStore } from './postgres-lease-store.js';
import { PostgresProjectionControl } from './postgres-projection-control.js';

/** One projection (or shard) as seen from outside any runner: its checkpoint, lag, lease and dead letters. */
export interface ProjectionOverview {
  /** The projection name. */
  readonly name: string;
  /** The checkpoint key: the name, or `name[i/n]` for a shard. */
  readonly key: string;
  /**
   * `paused`: paused (`annals projections pause`), whatever else holds; `leased`: a runner holds its
   * lease (it runs there); `unleased`: no runner holds one (stopped, or run without leases, as on
   * PGlite); `new`: in the config, no checkpoint yet.
   */
  readonly state: 'paused' | 'leased' | 'unleased' | 'new';
  /** When it was paused, if it is. */
  readonly pausedAt: Date | undefined;
  /** The checkpoint: position of the last applied event (0: none). */
  readonly position: bigint;
  /** Events after the checkpoint (of its types, when the config defines the projection). */
  readonly lagEvents: number;
  /** Age of the oldest of them in milliseconds (0 when none). */
  readonly lagMs: number;
  /** Whether the lag counts only the projection's event types (known from the config). */
  readonly lagByType: boolean;
  /** The runner that holds the lease, when one does. */
  readonly owner: string | undefined;
  /** When that lease expires unless renewed. */
  readonly leaseExpiresAt: Date | undefined;
  /** Dead letters recorded under this key. */
  readonly deadLetters: number;
}

const SHARD = /\[\d+\/\d+\]$/;

/**
 * Every projection with a checkpoint in the store, plus those of `projections` that have none yet:
 * what `annals status` and the console show. The state a runner keeps in memory (failed,
 * rebuilding) is not visible from outside it.
 *
 * @example
 * ```ts
 * for (const p of await readProjectionOverview(store, [AccountBalances])) console.log(p.key, p.lagEvents);
 * ```
 */
export async function readProjectionOverview(
  store: PostgresEventStore,
  projections: readonly Projection<any>[],
): Promise<ProjectionOverview[]> {
  const db = store.kysely.withoutPlugins().withSchema(store.schema) as Kysely<AnnalsTables>;
  const rows = await db.selectFrom('checkpoints').select(['name', 'position']).orderBy('name').execute();
  const checkpoints = new Map(rows.map((r) => [r.name, BigInt(r.position)]));
  const keys = new Set(checkpoints.keys());
  const configured = new Map(projections.map((p) => [p.name, p]));
  for (const p of projections) {
    const shardKeys =
      p.shards > 1 ? Array.from({ length: p.shards }, (_, i) => `${p.name}[${i}/${p.shards}]`) : [p.name];
    for (const key of shardKeys) keys.add(key);
  }
  const leases = new PostgresLeaseStore(store);
  const stats = new PostgresEventLogStats(store);
  const letters = await new PostgresDeadLetterStore(store).list();
  const paused = new Map(
    (await new PostgresProjectionControl(store).listPaused()).map((p) => [p.name, p.pausedAt]),
  );
  // A paused projection with no checkpoint yet, outside the config, is listed too.
  for (const name of paused.keys()) {
    if (![...keys].some((key) => key.replace(SHARD, '') === name)) keys.add(name);
  }
  const now = Date.now();
  const result: ProjectionOverview[] = [];
  for (const key of [...keys].sort()) {
    const name = key.replace(SHARD, '');
    const types = configured.get(name)?.eventTypes;
    const position = checkpoints.get(key) ?? 0n;
    const [lease, pending] = await Promise.all([
      leases.get(key),
      stats.pending({ afterPosition: position, ...(types === undefined ? {} : { filter: { types } }) }),
    ]);
    result.push({
      name,
      key,
      state: paused.has(name)
        ? 'paused'
        : lease !== undefined
          ? 'leased'
          : checkpoints.has(key)
            ? 'unleased'
            : 'new',
      pausedAt: paused.get(name),
      position,
      lagEvents: pending.count,
      lagMs:
        pending.oldestRecordedAt === undefined ? 0 : Math.max(0, now - pending.oldestRecordedAt.getTime()),
      lagByType: types !== undefined,
      owner: lease?.owner,
      leaseExpiresAt: lease?.expiresAt,
      deadLetters: letters.filter((l) => l.key === key).length,
    });
  }
  return result;
}
