/**
 * One workload of the benchmark, alone, for profiling: counts round trips to the database, prints
 * query plans, and records a CPU profile of where the time goes.
 *
 *   DATABASE_URL=... tsx test/bench/profile/profile-workload.ts read-all [--events 100000] \
 *     [--pglite | --memory] [--no-analyze] [--profile /tmp/read-all.cpuprofile]
 *   (projection: --batch to project with a batch handler, one upsert per batch)
 *   tsx test/bench/profile/summarize-cpu-profile.ts /tmp/read-all.cpuprofile
 *
 * `--profile` records a CPU profile (inspector) of the timed sections only: seeding, warm-up of the
 * module loader and EXPLAIN are left out.
 *
 * Workloads: append-sequential, append-batch, explain-append, prepared-append, read-stream,
 * read-all, commands, projection. The data goes to the schema `annals_bench_profile` (dropped at the end), to PGlite
 * with --pglite, or to the in-memory store with --memory.
 */
import { writeFileSync } from 'node:fs';
import { Session as InspectorSession } from 'node:inspector';
import { parseArgs } from 'node:util';
import 'reflect-metadata';
import { defineProjection, type EventStore, InMemoryEventStore, Repository } from '@annals/core';
import { registerAnnals } from '@annals/core/tsyringe';
import {
  PostgresEventStore,
  type PostgresProjectionContext,
  PostgresProjectionRunner,
} from '@annals/postgres';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'kysely';
import pg from 'pg';
import { container } from 'tsyringe';
import { uniqueName } from '../harness/unique.js';
import { defaultMiddleware } from '../suites/aggregate-groups.js';
import { seedStreams } from '../suites/read-groups.js';
import { BenchAccount, BenchDeposit, BenchDepositHandler } from '../workload/bench-account.js';
import { BenchDeposited, benchStoreOptions, deposit, deposits } from '../workload/bench-events.js';

const SCHEMA = 'annals_bench_profile';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    events: { type: 'string' },
    pglite: { type: 'boolean' },
    memory: { type: 'boolean' },
    profile: { type: 'string' },
    'no-analyze': { type: 'boolean' },
    /** projection: a batch handler (one upsert per batch) instead of one upsert per event. */
    batch: { type: 'boolean' },
  },
});
const workload = positionals[0] ?? 'read-all';

/** Counts statements sent to the database, whatever sends them, and keeps the last one. */
let statements = 0;
let lastStatement: { text: string; params: unknown[] } | undefined;
const originalQuery = pg.Client.prototype.query;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  statements++;
  if (typeof args[0] === 'string') lastStatement = { text: args[0], params: (args[1] as unknown[]) ?? [] };
  return (originalQuery as (...a: unknown[]) => unknown).apply(this, args);
} as typeof originalQuery;

interface Session {
  query(text: string, params?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

interface Opened {
  readonly store: EventStore;
  /** Plain SQL beside the store; absent for memory. */
  readonly admin: Session | undefined;
  close(): Promise<void>;
}

async function open(): Promise<Opened> {
  if (values.memory) {
    return { store: new InMemoryEventStore(benchStoreOptions()), admin: undefined, close: async () => {} };
  }
  if (values.pglite) {
    const db = await PGlite.create();
    const query = db.query.bind(db);
    // Count PGlite statements too (Kysely's PGlite dialect calls query()).
    (db as unknown as { query: typeof query }).query = ((...args: Parameters<typeof query>) => {
      statements++;
      lastStatement = { text: args[0], params: (args[1] as unknown[] | undefined) ?? [] };
      return query(...args);
    }) as typeof query;
    const store = await PostgresEventStore.create(
      { pglite: db as never },
      { schema: SCHEMA, ...benchStoreOptions() },
    );
    await store.migrate();
    return {
      store,
      admin: db as unknown as Session,
      close: async () => {
        await store.close();
        await db.close();
      },
    };
  }
  const url = process.env.DATABASE_URL;
  if (url === undefined) throw new Error('set DATABASE_URL, or pass --pglite');
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  const store = await PostgresEventStore.create(
    { connectionString: url },
    { schema: SCHEMA, ...benchStoreOptions() },
  );
  await store.migrate();
  return {
    store,
    admin: admin as unknown as Session,
    close: async () => {
      await store.close();
      await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
      await admin.end();
    },
  };
}

/**
 * With `--profile <file>`, a CPU profile of the timed sections only (not of seeding or start-up),
 * through the inspector; read it with summarize-cpu-profile.ts.
 */
const inspector = values.profile === undefined ? undefined : new InspectorSession();
if (inspector !== undefined) {
  inspector.connect();
  await post(inspector, 'Profiler.enable');
  await post(inspector, 'Profiler.setSamplingInterval', { interval: 200 });
}

function post(session: InspectorSession, method: string, params?: object): Promise<any> {
  return new Promise((resolve, reject) =>
    session.post(method, params, (error, result) => (error ? reject(error) : resolve(result))),
  );
}

let profiling = false;
async function timed(label: string, units: number, work: () => Promise<unknown>): Promise<void> {
  const before = statements;
  if (inspector !== undefined && !profiling) {
    await post(inspector, 'Profiler.start');
    profiling = true;
  }
  const started = performance.now();
  await work();
  const ms = performance.now() - started;
  const sent = statements - before;
  process.stdout.write(
    `${label}: ${units.toLocaleString('en-US')} in ${ms.toFixed(0)} ms = ${Math.round(units / (ms / 1000)).toLocaleString('en-US')}/s; ` +
      `${sent} statements (${(sent / units).toFixed(3)} per unit)\n`,
  );
}

async function count(events: AsyncIterable<unknown>): Promise<number> {
  let n = 0;
  for await (const _ of events) n++;
  return n;
}

async function explain(
  admin: Session,
  sql: string,
  params: unknown[],
  options = 'ANALYZE, BUFFERS',
): Promise<void> {
  const { rows } = await admin.query(`EXPLAIN (${options}) ${sql}`, params);
  process.stdout.write(`${rows.map((r) => `  ${String(r['QUERY PLAN'])}`).join('\n')}\n`);
}

async function main(): Promise<void> {
  const { store: s, admin: maybeAdmin, close } = await open();
  const sqlAdmin = (): Session => {
    if (maybeAdmin === undefined) throw new Error(`${workload} needs a database: drop --memory`);
    return maybeAdmin;
  };
  try {
    if (workload === 'append-sequential') {
      const n = Number(values.events ?? 2000);
      await timed('warm-up', 200, async () => {
        for (let i = 0; i < 200; i++)
          await s.append(uniqueName('warm'), [deposit(i)], { expectedRevision: 'no_stream' });
      });
      await timed('single-event appends to new streams', n, async () => {
        for (let i = 0; i < n; i++)
          await s.append(uniqueName('seq'), [deposit(i)], { expectedRevision: 'no_stream' });
      });
    } else if (workload === 'prepared-append') {
      // The store's own append statement (captured: a call of annals_append), sent by hand on one
      // connection: as the store sends it (unnamed), as a named prepared statement, and the baseline INSERT.
      const n = Number(values.events ?? 3000);
      const db = sqlAdmin();
      const streamId = uniqueName('prep');
      await s.append(streamId, [deposit(0)], { expectedRevision: 'no_stream' });
      const captured = { ...lastStatement! };
      if (!captured.text.includes('annals_append')) throw new Error('did not capture the append statement');
      await db.query(`CREATE TABLE ${SCHEMA}.baseline_events (
        position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, id uuid NOT NULL UNIQUE,
        stream_id text NOT NULL, revision bigint NOT NULL, data jsonb NOT NULL, UNIQUE (stream_id, revision))`);
      const fresh = () => {
        const id = uniqueName('prep');
        const params = captured.params.map((p) => (p === streamId ? id : p));
        const ids = params.findIndex(
          (p) => Array.isArray(p) && typeof p[0] === 'string' && /^[0-9a-f-]{36}$/.test(p[0]),
        );
        if (ids >= 0) params[ids] = [crypto.randomUUID()];
        return params;
      };
      const data = JSON.stringify(deposit(0).data);
      for (let round = 0; round < 3; round++) {
        await timed(`round ${round + 1}: baseline INSERT (autocommit)`, n, async () => {
          for (let i = 0; i < n; i++) {
            await db.query(
              `INSERT INTO ${SCHEMA}.baseline_events (id, stream_id, revision, data) VALUES ($1, $2, 0, $3)`,
              [crypto.randomUUID(), uniqueName('b'), data],
            );
          }
        });
        await timed(
          `round ${round + 1}: the append statement, unnamed (as sent through a Kysely instance you pass)`,
          n,
          async () => {
            for (let i = 0; i < n; i++) await db.query(captured.text, fresh());
          },
        );
        if (!values.pglite) {
          await timed(
            `round ${round + 1}: the append statement, named prepared statement (as the store's own pool sends it)`,
            n,
            async () => {
              for (let i = 0; i < n; i++) {
                await (db as unknown as pg.Client).query({
                  name: 'annals_append',
                  text: captured.text,
                  values: fresh(),
                });
              }
            },
          );
        }
      }
    } else if (workload === 'explain-append') {
      // The statement the store really sends (captured above), planned and run in a rolled-back
      // transaction, next to the baseline's single-row INSERT into a table with the same indexes.
      const streamId = uniqueName('explain');
      await s.append(streamId, [deposit(0)], { expectedRevision: 'no_stream' });
      const captured = lastStatement!;
      process.stdout.write(`append statement (${captured.params.length} parameters):\n${captured.text}\n\n`);
      await sqlAdmin().query(`CREATE TABLE ${SCHEMA}.baseline_events (
        position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, id uuid NOT NULL UNIQUE,
        stream_id text NOT NULL, revision bigint NOT NULL, data jsonb NOT NULL, UNIQUE (stream_id, revision))`);
      for (let i = 0; i < 3; i++) {
        const fresh = uniqueName('explain');
        const params = captured.params.map((p) => (p === streamId ? fresh : p));
        // A fresh event id too, so the unique index takes a new key.
        const ids = params.findIndex(
          (p) => Array.isArray(p) && typeof p[0] === 'string' && /^[0-9a-f-]{36}$/.test(p[0]),
        );
        if (ids >= 0) params[ids] = [crypto.randomUUID()];
        await sqlAdmin().query('BEGIN');
        process.stdout.write(`Annals append, run ${i + 1}:\n`);
        await explain(sqlAdmin(), captured.text, params, 'ANALYZE, BUFFERS, WAL');
        await sqlAdmin().query('ROLLBACK');
        await sqlAdmin().query('BEGIN');
        process.stdout.write(`baseline INSERT, run ${i + 1}:\n`);
        await explain(
          sqlAdmin(),
          `INSERT INTO ${SCHEMA}.baseline_events (id, stream_id, revision, data) VALUES ($1, $2, 0, $3)`,
          [crypto.randomUUID(), fresh, JSON.stringify(deposit(i).data)],
          'ANALYZE, BUFFERS, WAL',
        );
        await sqlAdmin().query('ROLLBACK');
      }
    } else if (workload === 'commands') {
      const n = Number(values.events ?? 20_000);
      const { bus } = registerAnnals(container.createChildContainer(), {
        store: s,
        handlers: [BenchDepositHandler],
        middleware: defaultMiddleware(),
      });
      const accounts = new Repository(BenchAccount, { store: s });
      const ids = Array.from({ length: n }, () => uniqueName('acc'));
      for (const id of ids) await s.append(accounts.streamIdOf(id), [deposit(0)]);
      for (let r = 0; r < 3; r++) {
        await timed(`commands round ${r + 1}`, n, async () => {
          for (const id of ids)
            await bus.execute(BenchDeposit, { accountId: id, amount: 100, note: 'bench' });
        });
      }
    } else if (workload === 'projection') {
      const n = Number(values.events ?? 20_000);
      if (!(s instanceof PostgresEventStore)) throw new Error('projection needs a database: drop --memory');
      for (let i = 0; i < n; i += 100) await s.append(uniqueName('proj'), deposits(i, 100, 1_000));
      await sqlAdmin().query(
        `CREATE TABLE ${SCHEMA}.bench_balances (account_id text PRIMARY KEY, balance bigint NOT NULL, deposits integer NOT NULL)`,
      );
      if (!values['no-analyze']) await sqlAdmin().query(`ANALYZE ${SCHEMA}.events`);
      for (let r = 0; r < 2; r++) {
        await sqlAdmin().query(`TRUNCATE ${SCHEMA}.bench_balances`);
        const upsert = (tx: PostgresProjectionContext['tx']) =>
          tx.withSchema(SCHEMA).insertInto('bench_balances');
        const projection = values.batch
          ? defineProjection({
              name: uniqueName('bench-balances-batch'),
              events: [BenchDeposited],
              handleBatch: async (events, { tx }: PostgresProjectionContext) => {
                const rows = new Map<string, { account_id: string; balance: number; deposits: number }>();
                for (const { data } of events) {
                  const row = rows.get(data.accountId);
                  if (row === undefined)
                    rows.set(data.accountId, {
                      account_id: data.accountId,
                      balance: data.amount,
                      deposits: 1,
                    });
                  else {
                    row.balance += data.amount;
                    row.deposits += 1;
                  }
                }
                await upsert(tx)
                  .values([...rows.values()])
                  .onConflict((oc) =>
                    oc.column('account_id').doUpdateSet({
                      balance: sql`bench_balances.balance + excluded.balance`,
                      deposits: sql`bench_balances.deposits + excluded.deposits`,
                    }),
                  )
                  .execute();
              },
            })
          : defineProjection({
              name: uniqueName('bench-balances'),
              events: [BenchDeposited],
              handlers: {
                BenchDeposited: async (event, { tx }: PostgresProjectionContext) => {
                  await upsert(tx)
                    .values({ account_id: event.data.accountId, balance: event.data.amount, deposits: 1 })
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
        const runner = new PostgresProjectionRunner({ store: s, projections: [projection], batchSize: 500 });
        await timed(
          `projection catch-up${values.batch ? ' (batch handler)' : ''} round ${r + 1}`,
          n,
          async () => {
            await runner.start();
            await runner.waitUntilCaughtUp();
          },
        );
        await runner.stop();
      }
    } else if (workload === 'append-batch') {
      const n = Number(values.events ?? 20_000);
      await timed('100-event batches (events)', n, async () => {
        for (let i = 0; i < n; i += 100)
          await s.append(uniqueName('batch'), deposits(i, 100), { expectedRevision: 'no_stream' });
      });
    } else if (workload === 'read-stream') {
      const n = Number(values.events ?? 10_000);
      const { streams } = await seedStreams(s, { prefix: 'long', total: n, perStream: n, batchSize: 100 });
      if (maybeAdmin !== undefined && !values['no-analyze'])
        await sqlAdmin().query(`ANALYZE ${SCHEMA}.events`);
      for (let r = 0; r < 5; r++)
        await timed(`readStream round ${r + 1}`, n, () => count(s.readStream(streams[0]!)));
      if (maybeAdmin !== undefined)
        await explain(
          sqlAdmin(),
          `SELECT position::text AS position_text, stream_id, revision::text AS revision_text, id, type, schema_version, data, metadata, recorded_at,
           pg_column_size(data) + pg_column_size(metadata) FROM ${SCHEMA}.events
         WHERE stream_id = $1 AND revision >= $2 ORDER BY revision LIMIT 1000`,
          [streams[0], '5000'],
        );
    } else if (workload === 'read-all') {
      const n = Number(values.events ?? 100_000);
      const { firstPosition } = await seedStreams(s, {
        prefix: 'log',
        total: n,
        perStream: 100,
        batchSize: 100,
      });
      if (maybeAdmin !== undefined && !values['no-analyze'])
        await sqlAdmin().query(`ANALYZE ${SCHEMA}.events`);
      if (maybeAdmin !== undefined)
        await explainReadAllPages(sqlAdmin(), firstPosition + BigInt(Math.floor(n / 2)));
      for (let r = 0; r < 3; r++) {
        await timed(`readAll round ${r + 1}`, n, () =>
          count(s.readAll({ fromPosition: firstPosition, maxCount: n })),
        );
      }
    } else {
      throw new Error(
        `unknown workload ${workload}; use append-sequential, append-batch, explain-append, prepared-append, read-stream, read-all, commands or projection`,
      );
    }
  } finally {
    if (inspector !== undefined && profiling) {
      const { profile } = await post(inspector, 'Profiler.stop');
      writeFileSync(values.profile!, JSON.stringify(profile));
      process.stdout.write(`CPU profile of the timed sections: ${values.profile}\n`);
    }
    await close();
  }
}

/** The store's readAll page query, and the rewrite docs/guides/performance.md proposes, both EXPLAINed. */
async function explainReadAllPages(admin: Session, cursor: bigint): Promise<void> {
  await explain(
    admin,
    `SELECT position::text AS position_text, stream_id, revision::text AS revision_text, id, type, schema_version,
       data, metadata, recorded_at, pg_column_size(data) + pg_column_size(metadata) FROM ${SCHEMA}.events
     WHERE position >= $1 AND position < (pg_snapshot_xmin(pg_current_snapshot())::text::bigint << 20)
     ORDER BY position LIMIT 1000`,
    [String(cursor)],
  );
  // The shape the store uses: LIMIT over an open-ended range (which any estimate plans as an
  // ordered index scan), the horizon applied outside.
  process.stdout.write('the same page, horizon applied after the LIMIT:\n');
  await explain(
    admin,
    `SELECT * FROM (SELECT position, position::text AS position_text, stream_id, revision::text AS revision_text, id,
       type, schema_version, data, metadata, recorded_at, pg_column_size(data) + pg_column_size(metadata)
       FROM ${SCHEMA}.events WHERE position >= $1 ORDER BY position LIMIT 1000) page
     WHERE position < (pg_snapshot_xmin(pg_current_snapshot())::text::bigint << 20) ORDER BY position`,
    [String(cursor)],
  );
}

await main();
