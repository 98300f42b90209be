import type { EventFilter, EventLogStats, EventRegistry, PendingEvents } from '@annals/core';
import { type Kysely, sql } from 'kysely';
import { queryPredicate, storedQuery } from '../dcb/query-predicate.js';
import { orUnavailable } from '../store/unavailable.js';

/** What {@link PostgresEventLogStats} reads: a `PostgresEventStore` is one. */
export interface PostgresLogLocation {
  readonly kysely: Kysely<any>;
  readonly schema: string;
  readonly registry: EventRegistry;
}

/**
 * {@link EventLogStats} with one aggregate query: the committed events after a position, grouped by
 * stored (type, version) so renames by upcasters count under the type they are read as. Events that
 * readers of the global log do not see yet (committed after a transaction that is still open began)
 * count too: they are pending for a projection, and `waitUntilCaughtUp` waits for them. Its cost
 * grows with the number of pending rows (an index range scan on the primary key).
 */
export class PostgresEventLogStats implements EventLogStats {
  readonly #location: PostgresLogLocation;

  constructor(location: PostgresLogLocation) {
    this.#location = location;
  }

  async pending(options: {
    readonly afterPosition: bigint;
    readonly filter?: EventFilter;
  }): Promise<PendingEvents> {
    return orUnavailable(`measuring a projection's lag`, async () => {
      const { registry, schema } = this.#location;
      const types = options.filter?.types;
      const prefix = options.filter?.streamPrefix;
      const query = options.filter?.query;
      const storedTypes = types === undefined ? undefined : registry.storedTypesFor(types);
      const { rows } = await sql<{
        type: string;
        schema_version: number;
        count: string;
        last: string;
        oldest: Date | string;
      }>`
        select type, schema_version, count(*)::text as count, max(position)::text as last, min(recorded_at) as oldest
        from ${sql.id(schema, 'events')}
        where position > ${options.afterPosition.toString()}::bigint
          ${storedTypes === undefined ? sql`` : sql`and type = any(${storedTypes}::text[])`}
          ${prefix === undefined ? sql`` : sql`and starts_with(stream_id, ${prefix}::text)`}
          ${query === undefined ? sql`` : sql`and ${queryPredicate(storedQuery(registry, query))}`}
        group by type, schema_version`.execute(this.#location.kysely.withoutPlugins());
      const wanted = types === undefined ? undefined : new Set(types);
      let count = 0;
      let lastPosition: bigint | undefined;
      let oldestRecordedAt: Date | undefined;
      for (const row of rows) {
        if (wanted !== undefined && !wanted.has(registry.upcastTarget(row.type, row.schema_version).type))
          continue;
        count += Number(row.count);
        const last = BigInt(row.last);
        if (lastPosition === undefined || last > lastPosition) lastPosition = last;
        const oldest = new Date(row.oldest);
        if (oldestRecordedAt === undefined || oldest < oldestRecordedAt) oldestRecordedAt = oldest;
      }
      return { count, lastPosition, oldestRecordedAt };
    });
  }
}
