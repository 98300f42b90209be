import { exportEvents, importEvents } from '@annals/core';
import { sql } from 'kysely';
import { PostgresEventStore } from '../store/postgres-event-store.js';
import { orUnavailable } from '../store/unavailable.js';
import { TenantMoveFailed } from './tenant-errors.js';
import { fenceTenant, unfenceTenant } from './tenant-fence.js';

/** The outcome of `TenantRouter.moveTenant`. */
export interface MoveTenantResult {
  readonly tenantId: string;
  readonly from: string;
  readonly to: string;
  /** Events the tenant holds, at both places (verified equal). */
  readonly events: number;
  /** Events this run appended at the new place (fewer when it resumed an earlier run). */
  readonly copied: number;
}

/** Options of `TenantRouter.moveTenant`. */
export interface MoveTenantOptions {
  /** How long the cut-over waits for the old place's last events to become readable. Default 60000 ms. */
  readonly cutOverTimeoutMs?: number;
  /** Called after each copy round with the events copied so far. */
  readonly onProgress?: (progress: { readonly phase: 'copy' | 'cut-over'; readonly copied: number }) => void;
}

/** One tenant's schema at one database, opened without definitions: events are copied as stored. */
async function rawTenant(database: PostgresEventStore, tenantId: string): Promise<PostgresEventStore> {
  return PostgresEventStore.create(
    { kysely: database.kysely },
    { schema: database.forTenant(tenantId).schema, notify: false, horizonWaitMs: 0 },
  );
}

/**
 * Copies a tenant from `from` to `to` while it keeps taking writes, fences the old place (appends
 * there raise `TenantMoved` from then on), copies the rest, and verifies that both places hold the
 * same events (ids, streams, revisions, types, versions, data, metadata, recordedAt to the
 * millisecond). Resumable: each round continues after the last event the new place holds.
 */
export async function copyAndFence(
  tenantId: string,
  from: { readonly name: string; readonly store: PostgresEventStore },
  to: { readonly name: string; readonly store: PostgresEventStore },
  options: MoveTenantOptions = {},
): Promise<MoveTenantResult> {
  await to.store.forTenant(tenantId).migrate();
  const source = await rawTenant(from.store, tenantId);
  const target = await rawTenant(to.store, tenantId);
  try {
    await orUnavailable(`opening tenant ${tenantId} at ${to.name}`, () =>
      unfenceTenant(to.store.kysely.withoutPlugins(), target.schema),
    );
    let copied = 0;
    const round = async () => {
      const fromPosition = await resumePosition(source, target);
      copied += (await importEvents(target, exportEvents(source, { fromPosition }))).events;
    };
    await round();
    options.onProgress?.({ phase: 'copy', copied });
    await orUnavailable(`fencing tenant ${tenantId} at ${from.name}`, () =>
      fenceTenant(from.store.kysely.withoutPlugins(), source.schema, tenantId, to.name),
    );
    const deadline = Date.now() + (options.cutOverTimeoutMs ?? 60_000);
    for (;;) {
      await round();
      options.onProgress?.({ phase: 'cut-over', copied });
      const [left, right] = await Promise.all([digest(source), digest(target)]);
      if (left.count === right.count) {
        if (left.digest !== right.digest) {
          throw new TenantMoveFailed(
            tenantId,
            `the copy at ${to.name} differs from the events at ${from.name}`,
          );
        }
        return { tenantId, from: from.name, to: to.name, events: left.count, copied };
      }
      if (left.count < right.count) {
        throw new TenantMoveFailed(
          tenantId,
          `${to.name} holds more events (${right.count}) than ${from.name} (${left.count})`,
        );
      }
      if (Date.now() > deadline) {
        throw new TenantMoveFailed(
          tenantId,
          `${left.count - right.count} event(s) at ${from.name} stayed unreadable (above the horizon) for ${options.cutOverTimeoutMs ?? 60_000} ms`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await source.close();
    await target.close();
  }
}

/** The source position after the last event the target holds (the copy appends in source order). */
async function resumePosition(source: PostgresEventStore, target: PostgresEventStore): Promise<bigint> {
  return orUnavailable('finding where the tenant copy resumes', async () => {
    const last = await sql<{ id: string }>`select id from ${sql.id(target.schema, 'events')}
      order by position desc limit 1`.execute(target.kysely.withoutPlugins());
    const id = last.rows[0]?.id;
    if (id === undefined) return 0n;
    const found = await sql<{
      position: string;
    }>`select position::text as position from ${sql.id(source.schema, 'events')}
      where id = ${id}`.execute(source.kysely.withoutPlugins());
    const position = found.rows[0]?.position;
    if (position === undefined) throw new Error(`event ${id} at the new place is not at the old one`);
    return BigInt(position) + 1n;
  });
}

/** The number of events of a tenant's schema and a digest of all of them, in stream and revision order. */
async function digest(store: PostgresEventStore): Promise<{ count: number; digest: string }> {
  return orUnavailable('verifying the tenant copy', async () => {
    const { rows } = await sql<{ count: number; digest: string }>`select count(*)::int as count,
      coalesce(md5(string_agg(concat_ws('|', id, stream_id, revision, type, schema_version, data::text,
        metadata::text, floor(extract(epoch from recorded_at) * 1000)::bigint), E'\n' order by stream_id, revision)), '') as digest
      from ${sql.id(store.schema, 'events')}`.execute(store.kysely.withoutPlugins());
    return rows[0]!;
  });
}
