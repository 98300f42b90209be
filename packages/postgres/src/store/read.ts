import {
  type EventFilter,
  type EventRegistry,
  InvalidArgument,
  matchesQuery,
  type RecordedEvent,
  StreamNotFound,
} from '@annals/core';
import { assertEventFilter, assertStreamId, toBigIntOption, toMaxCount } from '@annals/core/adapter';
import { type Kysely, sql } from 'kysely';
import { queryPositions, queryPredicate, type StoredQuery, storedQuery } from '../dcb/query-predicate.js';
import type { AnnalsTables } from '../schema/tables.js';
import {
  belowHorizonOf,
  decodeRow,
  decodeStreamRow,
  EVENT_ROW_COLUMNS,
  type EventRow,
  HORIZON,
  type StreamEventRow,
  selectEvents,
  selectStreamEvents,
  storedBytes,
} from './event-rows.js';
import type { PostgresReadAllOptions, PostgresReadStreamOptions } from './options.js';
import { PageSizer } from './page-sizer.js';
import { ReadAhead } from './read-ahead.js';
import type { StoreContext } from './store-context.js';
import { currentRevision } from './stored-batch.js';
import { toUnavailable } from './unavailable.js';

/** Reads one stream by revision, page by page (no horizon: a stream's order is its revisions). */
export async function* readStream(
  ctx: StoreContext,
  streamId: string,
  options: PostgresReadStreamOptions,
): AsyncGenerator<RecordedEvent> {
  ctx.assertOpen();
  assertStreamId(streamId);
  const from = toBigIntOption('fromRevision', options.fromRevision);
  const max = toMaxCount(options.maxCount);
  const direction = options.direction ?? 'forwards';
  if (direction !== 'forwards' && direction !== 'backwards') {
    throw new InvalidArgument(`direction must be 'forwards' or 'backwards', found ${String(direction)}.`);
  }
  const backwards = direction === 'backwards';
  const db = ctx.dbOf(options.transaction);
  await ctx.ensureVerified(db);
  const { registry, pageSize, pageBytes } = ctx.settings;
  const sizer = new PageSizer(pageSize, pageBytes);
  const readPage = (cursor: bigint | undefined, limit: number) => async () => {
    return (await streamPage(db, streamId, cursor, limit, backwards)
      .orderBy('revision', backwards ? 'desc' : 'asc')
      .limit(limit)
      .execute()
      .catch(unavailable(`a read of stream ${streamId}`))) as StreamEventRow[];
  };
  // Outside a transaction, with a pool, the next page is fetched while this one is handed out.
  const ahead =
    options.transaction === undefined && ctx.multiProcess ? new ReadAhead<StreamEventRow[]>() : undefined;
  let cursor = from;
  let count = 0;
  let firstPage = true;
  while (count < max) {
    const limit = Math.min(sizer.limit, max - count);
    const key = `${cursor}:${limit}`;
    const rows = await (ahead?.take(key, readPage(cursor, limit)) ?? readPage(cursor, limit)());
    if (firstPage && rows.length === 0 && (await currentRevision(db, streamId)) === 'no_stream') {
      throw new StreamNotFound(streamId);
    }
    firstPage = false;
    sizer.record(storedBytes(rows));
    // The next page, if any: this one is full, and does not end the stream backwards or the count.
    const last = rows.length === limit ? BigInt(rows[rows.length - 1]!.revision_text) : undefined;
    const next =
      last === undefined || (backwards && last === 0n) ? undefined : backwards ? last - 1n : last + 1n;
    const nextLimit = Math.min(sizer.limit, max - count - rows.length);
    for (const row of await registry.personalData.open(rows, options)) {
      yield decodeStreamRow(registry, row, streamId);
      count++;
      // The reader asked for more than the first event: start on the next page.
      if (ahead !== undefined && !ahead.started && next !== undefined && nextLimit > 0) {
        ahead.start(`${next}:${nextLimit}`, readPage(next, nextLimit));
      }
    }
    if (next === undefined) return;
    cursor = next;
  }
}

/**
 * The rows of one page of a stream: from `cursor` (inclusive; the stream's first or, backwards, last
 * event when undefined) on, and no further than `limit` revisions from the first row there is. A
 * stream's rows in the events table have consecutive revisions (archiving moves every event below a
 * position: a prefix of each stream), so the page holds exactly the `limit` rows wanted. The bound
 * keeps the statement's work to one page whatever the plan: without it, when the statistics expect
 * few rows for the stream (a young table, a stream grown since the last ANALYZE), PostgreSQL read
 * every remaining row of the stream with a bitmap scan and sorted them, for every page.
 */
export function streamPage(
  db: Kysely<AnnalsTables>,
  streamId: string,
  cursor: bigint | undefined,
  limit: number,
  backwards: boolean,
) {
  const edge = db
    .selectFrom('events as edge')
    .where('edge.stream_id', '=', streamId)
    .select((eb) => (backwards ? eb.fn.max('edge.revision') : eb.fn.min('edge.revision')).as('revision'));
  let query = selectStreamEvents(db).where('stream_id', '=', streamId);
  let first = edge;
  if (cursor !== undefined) {
    query = query.where('revision', backwards ? '<=' : '>=', String(cursor));
    first = edge.where('edge.revision', backwards ? '<=' : '>=', String(cursor));
  }
  return backwards
    ? query.where(sql<boolean>`revision > (${first}) - ${limit}::bigint`)
    : query.where(sql<boolean>`revision < (${first}) + ${limit}::bigint`);
}

/**
 * Reads the global log in position order, page by page, below the horizon (the oldest running
 * transaction): never an event that a still-running transaction could precede. Waits up to
 * `horizonWaitMs` for this store's own last append to become readable (read-your-writes).
 */
export async function* readAll(
  ctx: StoreContext,
  options: PostgresReadAllOptions,
): AsyncGenerator<RecordedEvent> {
  ctx.assertOpen();
  let cursor = toBigIntOption('fromPosition', options.fromPosition) ?? 0n;
  const max = toMaxCount(options.maxCount);
  const filter = compileFilter(ctx.settings.registry, options.filter);
  const inTransaction = options.transaction !== undefined;
  const db = ctx.dbOf(options.transaction);
  await ctx.ensureVerified(db);
  const { pageSize, pageBytes } = ctx.settings;
  // Inside a transaction its own appends stay above the horizon until it commits: no waiting for them.
  const horizonWaitMs = inTransaction ? 0 : ctx.settings.horizonWaitMs;
  const sizer = new PageSizer(pageSize, pageBytes);
  let count = 0;
  let waitUntil: number | undefined;
  let delayMs = 5;
  const readPage = (from: bigint, limit: number) => () =>
    readAllPage(db, from, limit, filter).catch(unavailable('a read of the global log'));
  // Outside a transaction, with a pool, the next page is fetched while this one is handed out.
  const ahead = !inTransaction && ctx.multiProcess ? new ReadAhead<EventRow[]>() : undefined;
  // Without a type filter every row is yielded, so the page need not exceed what is still wanted.
  const limitAfter = (yielded: number) =>
    filter.types === undefined && filter.query === undefined
      ? Math.min(sizer.limit, max - yielded)
      : sizer.limit;
  for (;;) {
    const limit = limitAfter(count);
    const rows = await (ahead?.take(`${cursor}:${limit}`, readPage(cursor, limit)) ??
      readPage(cursor, limit)());
    sizer.record(storedBytes(rows));
    if (rows.length > 0) cursor = BigInt(rows[rows.length - 1]!.position_text) + 1n;
    const full = rows.length === limit;
    // Only known without a type filter (every row is yielded); with one, a page read ahead for
    // another limit than the one finally wanted is dropped.
    const nextLimit = limitAfter(count + rows.length);
    for (const row of await ctx.settings.registry.personalData.open(rows, options)) {
      const event = decodeIfMatching(ctx.settings.registry, row, filter);
      if (event === undefined) continue;
      yield event;
      if (++count >= max) return;
      // The reader asked for more than one event of the page: start on the next page.
      if (ahead !== undefined && !ahead.started && full && nextLimit > 0) {
        ahead.start(`${cursor}:${nextLimit}`, readPage(cursor, nextLimit));
      }
    }
    if (full) continue;
    // The end of what is safe to read. Read-your-writes: when this store's own last append is not
    // below the horizon yet (an older transaction elsewhere is still open), wait a little for it.
    const own = ctx.lastAppendedPosition;
    if (own === undefined || own < cursor || horizonWaitMs === 0) return;
    waitUntil ??= Date.now() + horizonWaitMs;
    if ((await horizon(db)) > own) {
      // Every later read sees it too: the horizon only rises.
      if (ctx.lastAppendedPosition === own) ctx.lastAppendedPosition = undefined;
      continue;
    }
    const left = waitUntil - Date.now();
    if (left <= 0) return;
    await new Promise((resolve) => setTimeout(resolve, Math.min(delayMs, left)));
    delayMs = Math.min(delayMs * 2, 100);
  }
}

/** The current horizon: readers of the global log see positions below it. */
export async function horizon(db: Kysely<AnnalsTables>): Promise<bigint> {
  const row = await sql<{ horizon: string }>`select
    ${HORIZON}::text as horizon`.execute(db);
  return BigInt(row.rows[0]!.horizon);
}

/**
 * One page of the global log from `cursor` (inclusive), below the horizon, in position order. The
 * horizon is applied after the LIMIT (see {@link belowHorizonOf}): an open-ended range under a LIMIT
 * is an ordered index scan whatever the statistics say, and rows at or above the horizon can only
 * end the page, which then comes back short, as a page at the end of what is readable does.
 */
export async function readAllPage(
  db: Kysely<AnnalsTables>,
  cursor: bigint,
  limit: number,
  filter: CompiledFilter,
): Promise<EventRow[]> {
  let query = selectEvents(db).select('position').where('position', '>=', String(cursor));
  if (filter.storedTypes !== undefined) {
    query = query.where(sql<boolean>`type = any(${filter.storedTypes}::text[])`);
  }
  if (filter.streamPrefix !== undefined) {
    query = query.where(sql<boolean>`starts_with(stream_id, ${filter.streamPrefix}::text)`);
  }
  if (filter.query !== undefined) {
    query = query.where(queryPredicate(filter.query));
    // Alone, a query is read through the tag and type indexes; with other filters (rare), the
    // candidates could be filtered out after their limit, so the log is walked instead.
    if (filter.storedTypes === undefined && filter.streamPrefix === undefined) {
      query = query.where(sql<boolean>`position = any(${queryPositions(db, filter.query, cursor, limit)})`);
    }
  }
  return (await db
    .selectFrom(query.orderBy('position').limit(limit).as('page'))
    .select(EVENT_ROW_COLUMNS)
    .where(belowHorizonOf(sql.ref('page.position')))
    .orderBy('page.position')
    .execute()) as EventRow[];
}

/** An {@link EventFilter} checked and split into what SQL filters and what decoding filters. */
export interface CompiledFilter {
  /** The decoded types to keep. */
  readonly types?: ReadonlySet<string>;
  /** Stored types that may decode to one of `types` (pushed down to SQL). */
  readonly storedTypes?: readonly string[];
  readonly streamPrefix?: string | undefined;
  /** The query to keep events of: stored types pushed down to SQL, checked again after decoding. */
  readonly query?: StoredQuery | undefined;
}

/** Checks a filter and splits it for {@link readAllPage} and {@link decodeIfMatching}. */
export function compileFilter(registry: EventRegistry, options: EventFilter | undefined): CompiledFilter {
  const filter = assertEventFilter(options);
  if (filter === undefined) return {};
  const { types, streamPrefix } = filter;
  const query = filter.query === undefined ? undefined : storedQuery(registry, filter.query);
  if (types === undefined) return { streamPrefix, query };
  // Stored types that may be read as a wanted type (renames); the exact check runs after decoding.
  const storedTypes = registry.storedTypesFor(types);
  return { types: new Set(types), storedTypes, streamPrefix, query };
}

/** The decoded event of `row`, or undefined when the filter's types exclude it. */
export function decodeIfMatching(
  registry: EventRegistry,
  row: EventRow,
  filter: CompiledFilter,
): RecordedEvent | undefined {
  const event = decodeRow(registry, row);
  if (filter.types !== undefined && !filter.types.has(event.type)) return undefined;
  if (filter.query !== undefined && !matchesQuery(filter.query.query, event)) return undefined;
  return event;
}

/** Rethrows a lost-connection error as `StoreUnavailable`, any other error as it is. */
function unavailable(operation: string): (error: unknown) => never {
  return (error) => {
    throw toUnavailable(operation, error);
  };
}
