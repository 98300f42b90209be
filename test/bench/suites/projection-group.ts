import { defineProjection, type EventData, type EventStore } from '@annals/core';
import { sql, type Transaction } from 'kysely';
import type { ProjectionRunnerFactory } from '../backends/store-backend.js';
import { BASELINE_TABLE, createBaselineTable, seedBaselineRows } from '../baselines/physical-baseline.js';
import { type BenchGroup, type BuiltGroup, type GroupContext, unavailableFigure } from '../harness/group.js';
import type { SqlTarget } from '../harness/sql-target.js';
import { timeOnce } from '../harness/timing.js';
import type { MeasurementSpec } from '../harness/types.js';
import { uniqueName } from '../harness/unique.js';
import { BenchDeposited, deposits } from '../workload/bench-events.js';

/** Accounts the projected deposits are spread over: most events update an existing read-model row. */
const ACCOUNTS = 1_000;
/** Events per projection batch: the runner's default, used by the plain-SQL baselines too. */
const BATCH = 500;

export const ProjectionIds = {
  annals: 'projection.catch-up',
  annalsBatch: 'projection.catch-up.batch',
  annalsSql: 'projection.catch-up.sql',
  annalsBatchSql: 'projection.catch-up.batch.sql',
  perRow: 'baseline.project.per-row',
  setBased: 'baseline.project.set-based',
} as const;

interface BalanceRow {
  account_id: string;
  balance: number;
  deposits: number;
}

async function createReadModel(sql: SqlTarget, table: string): Promise<void> {
  await sql.main.query(`DROP TABLE IF EXISTS ${table}`);
  await sql.main.query(
    `CREATE TABLE ${table} (account_id text PRIMARY KEY, balance bigint NOT NULL, deposits integer NOT NULL)`,
  );
}

/** The projected total must be every event exactly once. */
async function checkReadModel(sql: SqlTarget, table: string, expected: number): Promise<void> {
  const { rows } = await sql.main.query<{ n: string | number | null }>(
    `SELECT sum(deposits) AS n FROM ${table}`,
  );
  const applied = Number(rows[0]?.n ?? 0);
  if (applied !== expected) throw new Error(`the read model holds ${applied} deposits, expected ${expected}`);
}

type BalanceTx = Transaction<{ bench_balances: BalanceRow }>;

/** The projection with per-event handlers, as an application writes it: one upsert per event. */
function perEventProjection(schema: string) {
  return defineProjection({
    // A new name each round: a fresh checkpoint, so every round catches up from the start.
    name: uniqueName('bench-balances'),
    events: [BenchDeposited],
    handlers: {
      BenchDeposited: async (event, { tx }: { tx: BalanceTx }) => {
        const data: EventData<typeof BenchDeposited> = event.data;
        await tx
          .withSchema(schema)
          .insertInto('bench_balances')
          .values({ account_id: data.accountId, balance: data.amount, deposits: 1 })
          .onConflict((oc) =>
            oc.column('account_id').doUpdateSet({
              balance: sql`bench_balances.balance + excluded.balance`,
              deposits: sql`bench_balances.deposits + 1`,
            }),
          )
          .execute();
      },
    },
  });
}

/**
 * The same projection with a batch handler, as an application writes it: the batch's deposits summed
 * per account in JavaScript, then one multi-row upsert per batch.
 */
function batchProjection(schema: string) {
  return defineProjection({
    name: uniqueName('bench-balances-batch'),
    events: [BenchDeposited],
    handleBatch: async (events, { tx }: { tx: BalanceTx }) => {
      const rows = new Map<string, BalanceRow>();
      for (const { data } of events) {
        const row = rows.get(data.accountId);
        if (row === undefined)
          rows.set(data.accountId, { account_id: data.accountId, balance: data.amount, deposits: 1 });
        else {
          row.balance += data.amount;
          row.deposits += 1;
        }
      }
      await tx
        .withSchema(schema)
        .insertInto('bench_balances')
        .values([...rows.values()])
        .onConflict((oc) =>
          oc.column('account_id').doUpdateSet({
            balance: sql`bench_balances.balance + excluded.balance`,
            deposits: sql`bench_balances.deposits + excluded.deposits`,
          }),
        )
        .execute();
    },
  });
}

/**
 * The same projections sending the baselines' own statements (through Kysely's `sql` tag, on the
 * batch's transaction) instead of building them with Kysely: what is left between these and the
 * baselines is the runner, not the handler's query builder or another SQL shape.
 */
function sameStatementProjection(schema: string, batch: boolean) {
  const table = sql.raw(`${schema}.bench_balances`);
  if (!batch) {
    return defineProjection({
      name: uniqueName('bench-balances-sql'),
      events: [BenchDeposited],
      handlers: {
        BenchDeposited: async (event, { tx }: { tx: BalanceTx }) => {
          await sql`INSERT INTO ${table} (account_id, balance, deposits) VALUES (${event.data.accountId}, ${event.data.amount}, 1)
            ON CONFLICT (account_id) DO UPDATE SET balance = ${table}.balance + excluded.balance, deposits = ${table}.deposits + 1`.execute(
            tx,
          );
        },
      },
    });
  }
  return defineProjection({
    name: uniqueName('bench-balances-batch-sql'),
    events: [BenchDeposited],
    handleBatch: async (events, { tx }: { tx: BalanceTx }) => {
      const accounts = events.map((e) => e.data.accountId);
      const amounts = events.map((e) => e.data.amount);
      await sql`INSERT INTO ${table} (account_id, balance, deposits)
        SELECT a, sum(b), count(*) FROM unnest(${accounts}::text[], ${amounts}::bigint[]) AS u(a, b) GROUP BY a
        ON CONFLICT (account_id) DO UPDATE SET balance = ${table}.balance + excluded.balance, deposits = ${table}.deposits + excluded.deposits`.execute(
        tx,
      );
    },
  });
}

/**
 * The projection as an application writes it, through the backend's runner (the checkpoint committed
 * with each batch): with per-event handlers (one upsert per event through the batch's Kysely
 * transaction), or with a batch handler (one upsert per batch). Both read the same seeded events
 * (the first spec seeds them) into the same read model.
 */
function annalsSpec(
  ctx: GroupContext,
  sqlTarget: SqlTarget,
  store: EventStore,
  makeRunner: Extract<ProjectionRunnerFactory, Function>,
  batch: boolean,
  seeded: { events: boolean },
  sameStatement = false,
): MeasurementSpec {
  const { sizes } = ctx;
  const schema = ctx.backend.schema;
  const table = `${schema}.bench_balances`;
  const events = sizes.catchUpEvents.toLocaleString('en-US');
  return {
    id: sameStatement
      ? batch
        ? ProjectionIds.annalsBatchSql
        : ProjectionIds.annalsSql
      : batch
        ? ProjectionIds.annalsBatch
        : ProjectionIds.annals,
    backend: ctx.backend.name,
    kind: 'annals',
    title:
      (batch
        ? `projection catch-up of ${events} events into a Postgres read model, batch handler (batches of ${BATCH})`
        : `projection catch-up of ${events} events into a Postgres read model (batches of ${BATCH})`) +
      (sameStatement ? ", the baseline's statement" : ''),
    unit: 'events/s',
    operation: `catch-up of ${events} events${batch ? ', batch handler' : ''}`,
    // Each first against the plain SQL that writes the same way, then against the other.
    compareWith: (batch
      ? [ProjectionIds.setBased, ProjectionIds.perRow]
      : [ProjectionIds.perRow, ProjectionIds.setBased]
    ).map((id) => ({ id, backend: ctx.backend.name })),
    setup: async () => {
      await createReadModel(sqlTarget, table);
      if (seeded.events) return;
      seeded.events = true;
      for (let i = 0; i < sizes.catchUpEvents; i += sizes.batchSize) {
        const size = Math.min(sizes.batchSize, sizes.catchUpEvents - i);
        await store.append(uniqueName('proj'), deposits(i, size, ACCOUNTS));
      }
    },
    round: async () => {
      await sqlTarget.main.query(`TRUNCATE ${table}`);
      const projection = sameStatement
        ? sameStatementProjection(schema, batch)
        : batch
          ? batchProjection(schema)
          : perEventProjection(schema);
      const runner = makeRunner({ store, projections: [projection], batchSize: BATCH });
      const sample = await timeOnce(async () => {
        await runner.start();
        await runner.waitUntilCaughtUp();
        return sizes.catchUpEvents;
      });
      await runner.stop();
      await checkReadModel(sqlTarget, table, sizes.catchUpEvents);
      return sample;
    },
  };
}

/**
 * The same projection written by hand in plain SQL: pages of the log, and per batch BEGIN, one
 * upsert per row (`perRow`) or one set-based upsert for the whole batch, a compare-and-swap on a
 * checkpoint row, COMMIT. Per-row is what the Annals handler does; set-based is the ceiling.
 */
function baselineSpec(
  ctx: GroupContext,
  sqlTarget: SqlTarget,
  setBased: boolean,
  seeded: { from: number },
): MeasurementSpec {
  const { sizes } = ctx;
  const schema = ctx.backend.schema;
  const table = `${schema}.baseline_balances`;
  const checkpoints = `${schema}.baseline_checkpoints`;
  const events = sizes.catchUpEvents.toLocaleString('en-US');
  const upsertOne = `INSERT INTO ${table} (account_id, balance, deposits) VALUES ($1, $2, 1)
    ON CONFLICT (account_id) DO UPDATE SET balance = ${table}.balance + excluded.balance, deposits = ${table}.deposits + 1`;
  const upsertMany = `INSERT INTO ${table} (account_id, balance, deposits)
    SELECT a, sum(b), count(*) FROM unnest($1::text[], $2::bigint[]) AS u(a, b) GROUP BY a
    ON CONFLICT (account_id) DO UPDATE SET balance = ${table}.balance + excluded.balance, deposits = ${table}.deposits + excluded.deposits`;
  return {
    id: setBased ? ProjectionIds.setBased : ProjectionIds.perRow,
    backend: sqlTarget.backend,
    kind: 'baseline',
    title: `plain SQL projection of ${events} rows, ${setBased ? 'one set-based upsert' : 'one upsert per row'} per batch of ${BATCH}`,
    unit: 'rows/s',
    operation: `catch-up of ${events} rows`,
    setup: async () => {
      await createReadModel(sqlTarget, table);
      await sqlTarget.main.query(
        `CREATE TABLE IF NOT EXISTS ${checkpoints} (name text PRIMARY KEY, position bigint NOT NULL)`,
      );
      if (!setBased) {
        const { rows } = await sqlTarget.main.query<{ next: string }>(
          `SELECT coalesce(max(position), 0) + 1 AS next FROM ${schema}.${BASELINE_TABLE}`,
        );
        seeded.from = Number(rows[0]!.next);
        await seedBaselineRows(
          sqlTarget,
          schema,
          'baseline-project',
          sizes.catchUpEvents,
          sizes.batchSize,
          ACCOUNTS,
        );
      }
    },
    round: async () => {
      const { from } = seeded;
      await sqlTarget.main.query(`TRUNCATE ${table}`);
      const name = uniqueName('baseline-balances');
      await sqlTarget.main.query(`INSERT INTO ${checkpoints} (name, position) VALUES ($1, $2)`, [
        name,
        from - 1,
      ]);
      const sample = await timeOnce(async () => {
        let after = from - 1;
        let applied = 0;
        while (applied < sizes.catchUpEvents) {
          const { rows } = await sqlTarget.main.query<{
            position: string;
            data: { accountId: string; amount: number };
          }>(
            `SELECT position, data FROM ${schema}.${BASELINE_TABLE} WHERE position > $1 ORDER BY position LIMIT $2`,
            [after, Math.min(BATCH, sizes.catchUpEvents - applied)],
          );
          if (rows.length === 0) break;
          const last = Number(rows[rows.length - 1]!.position);
          await sqlTarget.transaction(sqlTarget.main, async (tx) => {
            if (setBased) {
              await tx.query(upsertMany, [rows.map((r) => r.data.accountId), rows.map((r) => r.data.amount)]);
            } else {
              for (const row of rows) await tx.query(upsertOne, [row.data.accountId, row.data.amount]);
            }
            const moved = await tx.query(
              `UPDATE ${checkpoints} SET position = $1 WHERE name = $2 AND position = $3 RETURNING name`,
              [last, name, after],
            );
            if (moved.rows.length !== 1)
              throw new Error('the baseline checkpoint moved under the projection');
          });
          applied += rows.length;
          after = last;
        }
        return applied;
      });
      await checkReadModel(sqlTarget, table, sizes.catchUpEvents);
      return sample;
    },
  };
}

/** Projection catch-up into a read model in the same PostgreSQL database (PGlite and the server). */
export const projectionCatchUp: BenchGroup = {
  name: 'projection',
  backends: ['pglite', 'server'],
  maxRounds: 3,
  maxWarmupRounds: 0,
  async build(ctx): Promise<BuiltGroup> {
    const { backend, sizes } = ctx;
    const sqlTarget = backend.sql!;
    await createBaselineTable(sqlTarget, ctx.backend.schema);
    // The set-based baseline reads the rows the per-row one seeds: it must come second.
    const seeded = { from: 0 };
    const baselines = [
      baselineSpec(ctx, sqlTarget, false, seeded),
      baselineSpec(ctx, sqlTarget, true, seeded),
    ];
    const placeholder = {
      id: ProjectionIds.annals,
      backend: backend.name,
      title: `projection catch-up of ${sizes.catchUpEvents.toLocaleString('en-US')} events into a Postgres read model`,
      unit: 'events/s',
      operation: 'catch-up',
    };
    const placeholders = [
      placeholder,
      { ...placeholder, id: ProjectionIds.annalsBatch, title: `${placeholder.title}, batch handler` },
    ];
    if (typeof backend.openStore !== 'function') {
      const reason = backend.openStore.unavailable;
      return { specs: baselines, unavailable: placeholders.map((p) => unavailableFigure(p, reason)) };
    }
    if (typeof backend.projectionRunner !== 'function') {
      const reason = backend.projectionRunner.unavailable;
      return { specs: baselines, unavailable: placeholders.map((p) => unavailableFigure(p, reason)) };
    }
    const store = await backend.openStore();
    const seededEvents = { events: false };
    return {
      specs: [
        ...baselines,
        annalsSpec(ctx, sqlTarget, store, backend.projectionRunner, false, seededEvents),
        annalsSpec(ctx, sqlTarget, store, backend.projectionRunner, true, seededEvents),
        annalsSpec(ctx, sqlTarget, store, backend.projectionRunner, false, seededEvents, true),
        annalsSpec(ctx, sqlTarget, store, backend.projectionRunner, true, seededEvents, true),
      ],
      close: () => store.close(),
    };
  },
};
