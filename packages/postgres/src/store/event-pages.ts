import type { StoredEvent } from '@annals/core/adapter';
import type { CompiledQuery } from 'kysely';
import { type EventRow, type StreamEventRow, storedEvent, toStoredEvent } from './event-rows.js';

/**
 * Runs a statement on a pool the store owns and returns its rows as arrays of column values
 * (node-postgres' `rowMode: 'array'`): no object per row, no property per column.
 */
export type ArrayRowsQuery = (text: string, values: readonly unknown[]) => Promise<unknown[][]>;

/** A page of a read: its rows as the events the registry decodes, and what they take in storage. */
export interface EventPage {
  /** The rows, each its own new object (to decode with `{ owned: true }`). */
  readonly events: StoredEvent[];
  /** The stored size of the rows' data and metadata, for page sizing. */
  readonly bytes: number;
}

/** A select of `selectEvents` or `selectStreamEvents` columns, ready to run. */
export interface EventsSelect {
  compile(): CompiledQuery;
  execute(): Promise<unknown[]>;
}

/**
 * Runs `query` and turns its rows into stored events. With `arrayRows` (the store's own pool,
 * outside a transaction) the rows come as arrays, read by column index in the order of
 * `EVENT_ROW_COLUMNS`; otherwise (PGlite, a caller's Kysely, a transaction) through Kysely as
 * objects. `streamId` names the stream of rows selected without `stream_id`. Both give the same events.
 */
export async function fetchEventPage(
  query: EventsSelect,
  arrayRows: ArrayRowsQuery | undefined,
  streamId?: string,
): Promise<EventPage> {
  if (arrayRows === undefined) return fromObjects((await query.execute()) as StreamEventRow[], streamId);
  const compiled = query.compile();
  return fromArrays(await arrayRows(compiled.sql, compiled.parameters), streamId);
}

function fromArrays(rows: readonly unknown[][], streamId: string | undefined): EventPage {
  const events: StoredEvent[] = new Array(rows.length);
  let bytes = 0;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    events[i] = storedEvent(
      streamId ?? (r[10] as string),
      r[0] as string,
      r[1] as string,
      r[2] as string,
      r[3] as string,
      r[4] as number,
      r[5],
      r[6],
      r[7] as number | string,
      r[9] as string[] | null,
    );
    bytes += Number(r[8]);
  }
  return { events, bytes };
}

/** Stand-ins for a page's cursor and limit, to find where they go in the compiled statement. */
const CURSOR = '\u0000annals:cursor';
const LIMIT = '\u0000annals:limit';

interface PageStatement {
  readonly sql: string;
  readonly parameters: readonly unknown[];
  /** Where the cursor and the limit go among the parameters (each may appear more than once). */
  readonly cursorAt: readonly number[];
  readonly limitAt: readonly number[];
}

function indexesOf(values: readonly unknown[], value: unknown): number[] {
  const found: number[] = [];
  for (let i = 0; i < values.length; i++) if (values[i] === value) found.push(i);
  return found;
}

/**
 * Reads pages of one query whose pages differ only in cursor and limit. `build` makes the select
 * for a cursor (its text form; undefined for none) and a limit. On the store's own pool
 * (`arrayRows`) the statement is compiled once per read and shape (with or without a cursor), and
 * each page only sets its cursor and limit: the query builder runs once, not once per page.
 */
export function eventPageReader(
  build: (cursor: string | undefined, limit: number) => EventsSelect,
  arrayRows: ArrayRowsQuery | undefined,
  streamId?: string,
): (cursor: string | undefined, limit: number) => Promise<EventPage> {
  if (arrayRows === undefined) {
    return (cursor, limit) => fetchEventPage(build(cursor, limit), undefined, streamId);
  }
  let withCursor: PageStatement | undefined;
  let withoutCursor: PageStatement | undefined;
  return async (cursor, limit) => {
    let statement = cursor === undefined ? withoutCursor : withCursor;
    if (statement === undefined) {
      const compiled = build(cursor === undefined ? undefined : CURSOR, LIMIT as unknown as number).compile();
      statement = {
        sql: compiled.sql,
        parameters: compiled.parameters,
        cursorAt: indexesOf(compiled.parameters, CURSOR),
        limitAt: indexesOf(compiled.parameters, LIMIT),
      };
      if (statement.limitAt.length === 0 || (cursor !== undefined && statement.cursorAt.length === 0)) {
        // Not a statement of this shape: compile every page.
        return fetchEventPage(build(cursor, limit), arrayRows, streamId);
      }
      if (cursor === undefined) withoutCursor = statement;
      else withCursor = statement;
    }
    const values = statement.parameters.slice();
    if (cursor !== undefined) for (const i of statement.cursorAt) values[i] = cursor;
    for (const i of statement.limitAt) values[i] = limit;
    return fromArrays(await arrayRows(statement.sql, values), streamId);
  };
}

function fromObjects(rows: readonly StreamEventRow[], streamId: string | undefined): EventPage {
  const events: StoredEvent[] = new Array(rows.length);
  let bytes = 0;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    events[i] = toStoredEvent(row, streamId ?? (row as EventRow).stream_id);
    bytes += Number(row.stored_bytes);
  }
  return { events, bytes };
}
