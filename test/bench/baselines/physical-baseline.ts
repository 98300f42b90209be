import { randomUUID } from 'node:crypto';
import type { Sizes } from '../harness/options.js';
import type { SqlSession, SqlTarget } from '../harness/sql-target.js';
import { timeOnce, timeOperations } from '../harness/timing.js';
import type { MeasurementSpec } from '../harness/types.js';
import { uniqueName } from '../harness/unique.js';
import { depositData } from '../workload/bench-events.js';

/**
 * The physical baselines: what PostgreSQL does for plain SQL written by hand through the same client
 * (`pg` on the server, PGlite embedded), into a table shaped like the events table (uuid, text,
 * bigint, jsonb) with the same indexes, measured in the same run as the Annals figures they judge.
 */
export const BaselineIds = {
  insertSequential: 'baseline.insert.sequential',
  insertSequentialTx: 'baseline.insert.sequential.tx',
  insertConcurrent: 'baseline.insert.concurrent',
  insertConcurrentTx: 'baseline.insert.concurrent.tx',
  insertUnnest: 'baseline.insert.unnest',
  selectStream: 'baseline.select.stream',
  selectAggregateStream: 'baseline.select.aggregate-stream',
  selectCatchUp: 'baseline.select.catch-up',
} as const;

/** The table of the baselines, next to the store's tables in the benchmark schema. */
export const BASELINE_TABLE = 'baseline_events';

/** Rows per page of the catch-up baseline, like a catch-up reader pages the log. */
export const CATCH_UP_PAGE = 1_000;

/**
 * Creates the baseline table. Its indexes mirror those of the events table that the columns allow:
 * the primary key on the bigint position, a unique uuid, and the unique (stream, revision) pair.
 */
export async function createBaselineTable(sql: SqlTarget, schema: string): Promise<void> {
  const t = `${schema}.${BASELINE_TABLE}`;
  await sql.main.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  await sql.main.query(`DROP TABLE IF EXISTS ${t}`);
  await sql.main.query(`CREATE TABLE ${t} (
    position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id uuid NOT NULL UNIQUE,
    stream_id text NOT NULL,
    revision bigint NOT NULL,
    data jsonb NOT NULL,
    UNIQUE (stream_id, revision)
  )`);
}

/** The definitions of the baseline table's indexes, as PostgreSQL reports them (for the results). */
export async function baselineIndexes(sql: SqlTarget, schema: string): Promise<string[]> {
  const { rows } = await sql.main.query<{ indexdef: string }>(
    'SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND tablename = $2 ORDER BY indexname',
    [schema, BASELINE_TABLE],
  );
  return rows.map((r) => r.indexdef);
}

const INSERT_ONE = (schema: string) =>
  `INSERT INTO ${schema}.${BASELINE_TABLE} (id, stream_id, revision, data) VALUES ($1, $2, $3, $4)`;

const INSERT_UNNEST = (schema: string) =>
  `INSERT INTO ${schema}.${BASELINE_TABLE} (id, stream_id, revision, data)
   SELECT * FROM unnest($1::uuid[], $2::text[], $3::bigint[], $4::jsonb[])`;

function oneRow(i: number): unknown[] {
  return [randomUUID(), uniqueName('baseline'), 0, JSON.stringify(depositData(i))];
}

/** Rows of `streams` streams of `perStream` revisions each, as unnest arrays. */
function rowArrays(streamIds: readonly string[], perStream: number, accounts?: number): unknown[][] {
  const ids: string[] = [];
  const streams: string[] = [];
  const revisions: number[] = [];
  const data: string[] = [];
  for (const streamId of streamIds) {
    for (let r = 0; r < perStream; r++) {
      ids.push(randomUUID());
      streams.push(streamId);
      revisions.push(r);
      data.push(JSON.stringify(depositData(ids.length, accounts)));
    }
  }
  return [ids, streams, revisions, data];
}

interface BaselineContext {
  readonly sql: SqlTarget;
  readonly schema: string;
  readonly sizes: Sizes;
}

const sessionTitle = (_sql: SqlTarget) => 'plain SQL';

/** Single-row INSERTs one after another, each its own transaction (autocommit) or in BEGIN/COMMIT. */
export function sequentialInsert(ctx: BaselineContext, explicitTx: boolean): MeasurementSpec {
  const { sql, schema, sizes } = ctx;
  const insert = INSERT_ONE(schema);
  return {
    id: explicitTx ? BaselineIds.insertSequentialTx : BaselineIds.insertSequential,
    backend: sql.backend,
    kind: 'baseline',
    title: `${sessionTitle(sql)} single-row INSERT, sequential${explicitTx ? ', BEGIN/COMMIT' : ''}`,
    unit: 'rows/s',
    operation: explicitTx ? 'BEGIN; INSERT; COMMIT' : 'INSERT (autocommit)',
    round: () =>
      timeOperations({ operations: sizes.sequentialAppends }, (i) =>
        explicitTx
          ? sql.transaction(sql.main, (tx) => tx.query(insert, oneRow(i)))
          : sql.main.query(insert, oneRow(i)),
      ),
  };
}

/** Single-row INSERTs over `concurrency` connections (PGlite: its one connection, concurrently). */
export function concurrentInsert(ctx: BaselineContext, explicitTx: boolean): MeasurementSpec {
  const { sql, schema, sizes } = ctx;
  const insert = INSERT_ONE(schema);
  let sessions: SqlSession[] = [];
  return {
    id: explicitTx ? BaselineIds.insertConcurrentTx : BaselineIds.insertConcurrent,
    backend: sql.backend,
    kind: 'baseline',
    title: `${sessionTitle(sql)} single-row INSERT, ${sizes.concurrency} connections${explicitTx ? ', BEGIN/COMMIT' : ''}`,
    unit: 'rows/s',
    operation: explicitTx ? 'BEGIN; INSERT; COMMIT' : 'INSERT (autocommit)',
    setup: async () => {
      sessions = await sql.sessions(sizes.concurrency);
    },
    round: () =>
      timeOperations({ operations: sizes.concurrentAppends, workers: sizes.concurrency }, (i, w) => {
        const session = sessions[w]!;
        return explicitTx
          ? sql.transaction(session, (tx) => tx.query(insert, oneRow(i)))
          : session.query(insert, oneRow(i));
      }),
  };
}

/** One INSERT of `unnestRows` rows passed as arrays. */
export function unnestInsert(ctx: BaselineContext): MeasurementSpec {
  const { sql, schema, sizes } = ctx;
  const insert = INSERT_UNNEST(schema);
  const perStream = sizes.batchSize;
  return {
    id: BaselineIds.insertUnnest,
    backend: sql.backend,
    kind: 'baseline',
    title: `${sessionTitle(sql)} one unnest INSERT of ${sizes.unnestRows.toLocaleString('en-US')} rows`,
    unit: 'rows/s',
    operation: `INSERT of ${sizes.unnestRows.toLocaleString('en-US')} rows`,
    round: async () => {
      const streams = Array.from({ length: Math.ceil(sizes.unnestRows / perStream) }, () =>
        uniqueName('baseline-unnest'),
      );
      const arrays = rowArrays(streams, perStream);
      // Building the arrays is the caller's work, not the database's: only the statement is timed.
      return timeOnce(async () => {
        await sql.main.query(insert, arrays);
        return streams.length * perStream;
      });
    },
  };
}

/** Writes `rows` rows in streams of `perStream` revisions; returns the stream ids. */
export async function seedBaselineRows(
  sql: SqlTarget,
  schema: string,
  prefix: string,
  rows: number,
  perStream: number,
  accounts?: number,
): Promise<string[]> {
  const all = Array.from({ length: Math.ceil(rows / perStream) }, () => uniqueName(prefix));
  const chunk = Math.max(1, Math.floor(10_000 / perStream));
  for (let i = 0; i < all.length; i += chunk) {
    await sql.main.query(INSERT_UNNEST(schema), rowArrays(all.slice(i, i + chunk), perStream, accounts));
  }
  return all;
}

/**
 * One SELECT of a whole stream, ordered by revision: of `streamLength` rows (rows/s), or with
 * `perStream`, of an aggregate-sized stream counted in streams/s.
 */
export function selectStream(ctx: BaselineContext, aggregate = false): MeasurementSpec {
  const { sql, schema, sizes } = ctx;
  const length = aggregate ? sizes.aggregateEvents : sizes.streamLength;
  const rows = length.toLocaleString('en-US');
  let streamId = '';
  return {
    id: aggregate ? BaselineIds.selectAggregateStream : BaselineIds.selectStream,
    backend: sql.backend,
    kind: 'baseline',
    title: `${sessionTitle(sql)} SELECT of one ${rows}-row stream`,
    unit: aggregate ? 'streams/s' : 'rows/s',
    operation: `SELECT of ${rows} rows`,
    setup: async () => {
      [streamId] = (await seedBaselineRows(sql, schema, 'baseline-read', length, length)) as [string];
    },
    round: async () => {
      const query = () =>
        sql.main.query(
          `SELECT id, stream_id, revision, data FROM ${schema}.${BASELINE_TABLE} WHERE stream_id = $1 ORDER BY revision`,
          [streamId],
        );
      if (aggregate) return timeOperations({ operations: sizes.aggregateLoads }, query);
      return timeOnce(async () => (await query()).rows.length);
    },
  };
}

/** A keyset-paged read of `catchUpEvents` rows in position order, pages of {@link CATCH_UP_PAGE}. */
export function selectCatchUp(ctx: BaselineContext): MeasurementSpec {
  const { sql, schema, sizes } = ctx;
  let from = 0;
  return {
    id: BaselineIds.selectCatchUp,
    backend: sql.backend,
    kind: 'baseline',
    title: `${sessionTitle(sql)} paged SELECT of ${sizes.catchUpEvents.toLocaleString('en-US')} rows`,
    unit: 'rows/s',
    operation: `catch-up of ${sizes.catchUpEvents.toLocaleString('en-US')} rows, pages of ${CATCH_UP_PAGE}`,
    setup: async () => {
      const { rows } = await sql.main.query<{ next: string }>(
        `SELECT coalesce(max(position), 0) + 1 AS next FROM ${schema}.${BASELINE_TABLE}`,
      );
      from = Number(rows[0]!.next);
      await seedBaselineRows(sql, schema, 'baseline-log', sizes.catchUpEvents, sizes.batchSize);
    },
    round: () =>
      timeOnce(async () => {
        let after = from - 1;
        let read = 0;
        while (read < sizes.catchUpEvents) {
          const { rows } = await sql.main.query<{ position: string }>(
            `SELECT position, id, stream_id, revision, data FROM ${schema}.${BASELINE_TABLE}
             WHERE position > $1 ORDER BY position LIMIT $2`,
            [after, Math.min(CATCH_UP_PAGE, sizes.catchUpEvents - read)],
          );
          if (rows.length === 0) break;
          read += rows.length;
          after = Number(rows[rows.length - 1]!.position);
        }
        return read;
      }),
  };
}
