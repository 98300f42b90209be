/**
 * `pnpm bench`: Annals throughput and latency on memory, PGlite and a PostgreSQL server, each figure
 * next to the plain-SQL baseline measured in the same run. `pnpm bench --quick` is the CI smoke run.
 * See docs/guides/performance.md for what is measured and how to read it.
 */
import 'reflect-metadata';
import os from 'node:os';
import { openPGliteBackend, openServerBackend, startPGlite } from './backends/postgres-backends.js';
import { memoryBackend, type StoreBackend } from './backends/store-backend.js';
import { baselineIndexes, createBaselineTable } from './baselines/physical-baseline.js';
import { type Environment, environment, serverInfo } from './harness/environment.js';
import type { BenchGroup, GroupContext } from './harness/group.js';
import { errorText, runGroup } from './harness/measure.js';
import { type BenchOptions, parseOptions } from './harness/options.js';
import { Progress } from './harness/progress.js';
import { attachRatios, comparisonKey } from './harness/ratios.js';
import { orderFigures, renderReport } from './harness/report-table.js';
import { writeResults } from './harness/results-file.js';
import { judgeTargets } from './harness/targets.js';
import type { BackendName, Figure, FigureRef } from './harness/types.js';
import { aggregateLoads, commandBus } from './suites/aggregate-groups.js';
import { batchAppends, concurrentAppends, racingAppends, sequentialAppends } from './suites/append-groups.js';
import { brokerPublish } from './suites/broker-groups.js';
import { chainSealVerify } from './suites/chain-group.js';
import { instrumentationOverhead } from './suites/instrumentation-group.js';
import { personalDataOverhead } from './suites/personal-data-group.js';
import { projectionCatchUp } from './suites/projection-group.js';
import { catchUpReads, streamReads } from './suites/read-groups.js';

const GROUPS: readonly BenchGroup[] = [
  sequentialAppends,
  concurrentAppends,
  batchAppends,
  racingAppends,
  streamReads,
  catchUpReads,
  aggregateLoads,
  commandBus,
  instrumentationOverhead,
  personalDataOverhead,
  projectionCatchUp,
  brokerPublish,
  chainSealVerify,
];

const ORDER: readonly BackendName[] = ['memory', 'pglite', 'server'];

async function main(): Promise<number> {
  const argv = process.argv.slice(2).filter((a) => a !== '--');
  const options = parseOptions(argv, process.env);
  const progress = new Progress();
  const startedAt = new Date();
  progress.phase(
    `Annals benchmark, ${options.quick ? 'quick smoke run' : 'full run'}: ${options.warmupRounds} warm-up + ${options.rounds} rounds`,
  );

  // Other work on the machine skews every figure: say so rather than print noise as fact.
  const loadAtStart = os.loadavg()[0]!;
  const cores = os.availableParallelism();
  const busy =
    loadAtStart > 1
      ? `the machine was busy: load average ${loadAtStart.toFixed(1)} on ${cores} cores when the run started; the figures are not reliable`
      : undefined;
  if (busy !== undefined) progress.phase(`warning: ${busy}`);

  const backendNotes: Partial<Record<BackendName, string>> = {};
  if (options.databaseUrl === undefined) backendNotes.server = 'skipped: DATABASE_URL is not set';
  for (const name of ORDER)
    if (!options.backends.has(name)) backendNotes[name] ??= 'skipped: not in --backends';

  // PGlite takes seconds to start. The smoke run overlaps that with other measurements; a full run
  // does not, since it would disturb them.
  const pglite = options.quick && options.backends.has('pglite') ? startPGlite() : undefined;
  pglite?.catch(() => {}); // an early failure is reported when the backend opens

  let openFailed = false;
  const opened: StoreBackend[] = [];
  const closeAll = async () => {
    for (const backend of opened.splice(0)) await backend.close().catch(() => {});
  };
  // Ctrl-C still drops the benchmark schema.
  process.once('SIGINT', () => {
    progress.phase('interrupted: dropping the benchmark schema');
    // A drop can wait for a lock held by work still running here: give up after a while (the next
    // run drops the schema first anyway).
    setTimeout(() => process.exit(130), 15_000).unref();
    void closeAll().finally(() => process.exit(130));
  });

  const figures: Figure[] = [];
  const comparisons = new Map<string, readonly FigureRef[]>();
  const indexes: Record<string, string[]> = {};
  /** Figure ids per group, so the table lists a group's rows together whichever backend added them. */
  const idsByGroup = new Map<string, string[]>();
  let server: Environment['server'];
  try {
    // The smoke run measures PGlite last, so its start-up overlaps the server's measurements.
    const runOrder: readonly BackendName[] = options.quick ? ['memory', 'server', 'pglite'] : ORDER;
    for (const name of runOrder) {
      if (!options.backends.has(name)) continue;
      progress.phase(`${name}: opening`);
      let backend: StoreBackend;
      try {
        backend = await openBackend(name, options, pglite);
      } catch (error) {
        backendNotes[name] = `FAILED to open: ${errorText(error)}`;
        openFailed = true;
        progress.result(`✗ ${name}: ${backendNotes[name]}`);
        continue;
      }
      opened.push(backend);
      if (typeof backend.openStore !== 'function') {
        progress.result(`${name}: the Annals store is not available (${backend.openStore.unavailable})`);
      }
      if (name === 'server' && backend.sql !== undefined) server = await serverInfo(backend.sql);
      // The index comparison is for the record of a full run; the smoke run saves the extra migration.
      if (backend.sql !== undefined && !options.quick) {
        try {
          Object.assign(indexes, await describeIndexes(backend));
        } catch (error) {
          indexes[`${name}:error`] = [errorText(error)];
        }
      }
      const ctx: GroupContext = {
        backend,
        options,
        sizes: options.sizes(name),
        referenceBackend: options.backends.has('server')
          ? 'server'
          : options.backends.has('pglite')
            ? 'pglite'
            : undefined,
      };
      for (const group of GROUPS) {
        if (group.backends !== undefined && !group.backends.includes(name)) continue;
        if (options.only !== undefined && !options.only.some((word) => group.name.includes(word))) continue;
        progress.phase(`${name}: ${group.name}`);
        const measured = await runBenchGroup(group, ctx, options, progress, comparisons);
        figures.push(...measured);
        const ids = idsByGroup.get(group.name) ?? [];
        for (const figure of measured) if (!ids.includes(figure.id)) ids.push(figure.id);
        idsByGroup.set(group.name, ids);
      }
      await backend.close();
      opened.splice(opened.indexOf(backend), 1);
    }
  } finally {
    await closeAll();
  }

  // A group's rows together, in group order, whichever backend added them.
  const order = GROUPS.flatMap((g) => idsByGroup.get(g.name) ?? []);
  const withRatios = orderFigures(attachRatios(figures, comparisons), order);
  const targets = judgeTargets(withRatios, options.quick);
  const backends = ORDER.map((name) => ({
    name,
    ...(backendNotes[name] === undefined ? {} : { note: backendNotes[name] }),
  }));
  const resultsFile =
    options.resultsDir === undefined
      ? undefined
      : writeResults(options.resultsDir, {
          format: 'annals-bench/1',
          startedAt: startedAt.toISOString(),
          durationSeconds: Math.round(progress.elapsedSeconds()),
          mode: options.quick ? 'quick' : 'full',
          rounds: options.rounds,
          warmupRounds: options.warmupRounds,
          environment: environment(server),
          backends: Object.fromEntries(backends.map((b) => [b.name, b.note ?? 'measured'])),
          indexes,
          loadAverage: { start: loadAtStart, end: os.loadavg()[0]! },
          figures: withRatios,
          targets,
        });
  const env = environment(server);
  const title =
    `Annals benchmark (${options.quick ? 'quick smoke run: sizes too small to mean anything' : 'full run'}), ` +
    `${options.warmupRounds} warm-up + ${options.rounds} rounds, ${env.cpus.count} cores, node ${env.node}` +
    (env.commit === undefined
      ? ''
      : `, commit ${env.commit.hash.slice(0, 10)}${env.commit.dirty ? ' (dirty)' : ''}`) +
    (server === undefined
      ? ''
      : `\nServer: PostgreSQL ${server.version}, synchronous_commit=${server.settings.synchronous_commit}`);
  process.stdout.write(
    renderReport(withRatios, {
      title,
      backends,
      targets,
      resultsFile,
      warnings: busy === undefined ? [] : [busy],
      order,
    }),
  );
  progress.phase(`done in ${Math.round(progress.elapsedSeconds())} s`);
  return openFailed || withRatios.some((f) => f.status === 'failed') ? 1 : 0;
}

async function openBackend(
  name: BackendName,
  options: BenchOptions,
  pglite: ReturnType<typeof startPGlite> | undefined,
): Promise<StoreBackend> {
  if (name === 'memory') return memoryBackend();
  if (name === 'pglite') return openPGliteBackend(options.schema, pglite);
  const poolSize = Math.max(...ORDER.map((b) => options.sizes(b).concurrency));
  return openServerBackend(options.databaseUrl!, options.schema, poolSize);
}

async function runBenchGroup(
  group: BenchGroup,
  ctx: GroupContext,
  options: BenchOptions,
  progress: Progress,
  comparisons: Map<string, readonly FigureRef[]>,
): Promise<Figure[]> {
  let built: Awaited<ReturnType<BenchGroup['build']>>;
  try {
    await ctx.backend.reset();
    built = await group.build(ctx);
  } catch (error) {
    const reason = `setting up ${group.name}: ${errorText(error)}`;
    progress.result(`✗ ${ctx.backend.name} ${group.name}: ${reason}`);
    return [
      {
        id: group.name,
        backend: ctx.backend.name,
        kind: 'annals',
        title: group.name,
        unit: '',
        operation: group.name,
        status: 'failed',
        reason,
      },
    ];
  }
  for (const spec of built.specs) comparisons.set(comparisonKey(spec), spec.compareWith ?? []);
  for (const figure of built.unavailable ?? [])
    progress.result(`- ${figure.backend} ${figure.id}: not available`);
  try {
    const measured = await runGroup(built.specs, {
      warmupRounds: Math.min(options.warmupRounds, group.maxWarmupRounds ?? options.warmupRounds),
      rounds: Math.min(options.rounds, group.maxRounds ?? options.rounds),
      timeoutMs: options.timeoutMs,
      progress,
      afterSetup: () => ctx.backend.analyze(),
    });
    return [...measured, ...(built.unavailable ?? [])];
  } finally {
    await built.close?.().catch(() => {});
  }
}

/** The index definitions of the store's events table and of the baseline table, side by side. */
async function describeIndexes(backend: StoreBackend): Promise<Record<string, string[]>> {
  const sql = backend.sql!;
  const result: Record<string, string[]> = {};
  await backend.reset();
  if (typeof backend.openStore === 'function') {
    const store = await backend.openStore();
    const { rows } = await sql.main.query<{ indexdef: string }>(
      `SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND tablename = 'events' ORDER BY indexname`,
      [backend.schema],
    );
    result[`${backend.name}:events`] = rows.map((r) => r.indexdef);
    await store.close();
  }
  await createBaselineTable(sql, backend.schema);
  result[`${backend.name}:baseline_events`] = await baselineIndexes(sql, backend.schema);
  return result;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(
      `benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
