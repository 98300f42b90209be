import { type EventStore, isConcurrencyConflict } from '@annals/core';
import type { StoreVariant } from '../backends/store-backend.js';
import {
  BaselineIds,
  concurrentInsert,
  createBaselineTable,
  sequentialInsert,
  unnestInsert,
} from '../baselines/physical-baseline.js';
import {
  type BenchGroup,
  type BuiltGroup,
  baselineRef,
  type GroupContext,
  unavailableFigure,
} from '../harness/group.js';
import { timeOperations } from '../harness/timing.js';
import type { FigureRef, MeasurementSpec, RoundSample } from '../harness/types.js';
import { uniqueName } from '../harness/unique.js';
import { deposit, deposits } from '../workload/bench-events.js';

/** Annals specs of a group with their baselines: opens the store, or reports the specs as not available. */
export async function withStore(
  ctx: GroupContext,
  baselines: readonly MeasurementSpec[],
  annals: readonly ((store: () => EventStore) => MeasurementSpec)[],
): Promise<BuiltGroup> {
  const { backend } = ctx;
  if (typeof backend.openStore !== 'function') {
    const reason = backend.openStore.unavailable;
    const placeholder = () => {
      throw new Error(reason);
    };
    return {
      specs: baselines,
      unavailable: annals.map((make) => unavailableFigure(make(placeholder), reason)),
    };
  }
  const store = await backend.openStore();
  return {
    specs: [...baselines, ...annals.map((make) => make(() => store))],
    close: () => store.close(),
  };
}

/**
 * The same appends with an event type the store has no definition for (stored as plain JSON, not
 * validated): what zod validation on append costs. Memory only, where nothing else hides it.
 */
function withoutValidation(
  ctx: GroupContext,
  operations: number,
): ((store: () => EventStore) => MeasurementSpec)[] {
  if (ctx.backend.name !== 'memory') return [];
  return [
    (store) => ({
      id: 'append.single.sequential.unvalidated',
      backend: ctx.backend.name,
      kind: 'annals',
      title: 'single-event appends to new streams, sequential, undefined type (no validation)',
      unit: 'events/s',
      operation: 'append of 1 event',
      compareWith: refs(ctx, BaselineIds.insertSequential),
      round: () =>
        timeOperations({ operations }, (i) =>
          store().append(uniqueName('plain'), [{ type: 'BenchUndefined', data: deposit(i).data }], {
            expectedRevision: 'no_stream',
          }),
        ),
    }),
  ];
}

/** A spec run on a store of its own, opened with `variant` on the same tables. */
type VariantSpec = Pick<MeasurementSpec, 'id' | 'title' | 'compareWith'> & {
  round(store: EventStore): Promise<RoundSample>;
};

/**
 * The same appends on a store with `notify: false` (PostgreSQL only): what the NOTIFY that wakes
 * other processes' subscriptions costs. It opens its own store on the same tables.
 */
function withoutNotify(
  ctx: GroupContext,
  spec: VariantSpec,
): ((store: () => EventStore) => MeasurementSpec)[] {
  return withVariant(ctx, { notify: false }, spec);
}

/**
 * The same appends with `groupCommit: false` (the server only, where group commit applies): one
 * statement and one transaction per append, measured in the same run as group commit on.
 */
function withoutGroupCommit(
  ctx: GroupContext,
  spec: VariantSpec,
): ((store: () => EventStore) => MeasurementSpec)[] {
  if (ctx.backend.name !== 'server') return [];
  return withVariant(ctx, { groupCommit: false }, spec);
}

function withVariant(
  ctx: GroupContext,
  variant: StoreVariant,
  spec: VariantSpec,
): ((store: () => EventStore) => MeasurementSpec)[] {
  if (ctx.backend.sql === undefined) return [];
  let quiet: EventStore | undefined;
  return [
    () => ({
      id: spec.id,
      backend: ctx.backend.name,
      kind: 'annals',
      title: spec.title,
      unit: 'events/s',
      operation: 'append of 1 event',
      ...(spec.compareWith === undefined ? {} : { compareWith: spec.compareWith }),
      setup: async () => {
        const open = ctx.backend.openStore;
        if (typeof open !== 'function') throw new Error(open.unavailable);
        quiet = await open(variant);
      },
      round: () => spec.round(quiet!),
      teardown: async () => quiet?.close(),
    }),
  ];
}

/** Creates the baseline table and returns the specs when the backend has SQL; none for memory. */
async function sqlBaselines(
  ctx: GroupContext,
  make: (c: { sql: NonNullable<GroupContext['backend']['sql']>; schema: string }) => MeasurementSpec[],
): Promise<MeasurementSpec[]> {
  const { sql } = ctx.backend;
  if (sql === undefined) return [];
  await createBaselineTable(sql, ctx.backend.schema);
  return make({ sql, schema: ctx.backend.schema });
}

function refs(ctx: GroupContext, ...ids: string[]): FigureRef[] {
  return ids.flatMap((id) => baselineRef(ctx, id));
}

/** Single-event appends to new streams, one after another. */
export const sequentialAppends: BenchGroup = {
  name: 'append-sequential',
  async build(ctx) {
    const { sizes } = ctx;
    const baselines = await sqlBaselines(ctx, (c) => [
      sequentialInsert({ ...c, sizes }, false),
      sequentialInsert({ ...c, sizes }, true),
    ]);
    return withStore(ctx, baselines, [
      (store) => ({
        id: 'append.single.sequential',
        backend: ctx.backend.name,
        kind: 'annals',
        title: 'single-event appends to new streams, sequential',
        unit: 'events/s',
        operation: 'append of 1 event',
        compareWith: refs(ctx, BaselineIds.insertSequential, BaselineIds.insertSequentialTx),
        round: () =>
          timeOperations({ operations: sizes.sequentialAppends }, (i) =>
            store().append(uniqueName('seq'), [deposit(i)], { expectedRevision: 'no_stream' }),
          ),
      }),
      ...withoutValidation(ctx, sizes.sequentialAppends),
      ...withoutGroupCommit(ctx, {
        id: 'append.single.sequential.no-group',
        title: 'single-event appends to new streams, sequential, group commit off',
        compareWith: refs(ctx, BaselineIds.insertSequential, BaselineIds.insertSequentialTx),
        round: (store) =>
          timeOperations({ operations: sizes.sequentialAppends }, (i) =>
            store.append(uniqueName('seq'), [deposit(i)], { expectedRevision: 'no_stream' }),
          ),
      }),
      ...withoutNotify(ctx, {
        id: 'append.single.sequential.no-notify',
        title: 'single-event appends to new streams, sequential, notify off',
        compareWith: refs(ctx, BaselineIds.insertSequential, BaselineIds.insertSequentialTx),
        round: (store) =>
          timeOperations({ operations: sizes.sequentialAppends }, (i) =>
            store.append(uniqueName('seq'), [deposit(i)], { expectedRevision: 'no_stream' }),
          ),
      }),
    ]);
  },
};

/** Single-event appends to new streams by 16 concurrent appenders. */
export const concurrentAppends: BenchGroup = {
  name: 'append-concurrent',
  async build(ctx) {
    const { sizes } = ctx;
    const baselines = await sqlBaselines(ctx, (c) => [
      concurrentInsert({ ...c, sizes }, false),
      concurrentInsert({ ...c, sizes }, true),
    ]);
    const built = await withStore(ctx, baselines, [
      (store) => ({
        id: 'append.single.concurrent',
        backend: ctx.backend.name,
        kind: 'annals',
        title: `single-event appends to new streams, ${sizes.concurrency} concurrent appenders`,
        unit: 'events/s',
        operation: 'append of 1 event',
        compareWith: refs(ctx, BaselineIds.insertConcurrent, BaselineIds.insertConcurrentTx),
        round: () =>
          timeOperations({ operations: sizes.concurrentAppends, workers: sizes.concurrency }, (i) =>
            store().append(uniqueName('conc'), [deposit(i)], { expectedRevision: 'no_stream' }),
          ),
      }),
      ...withoutGroupCommit(ctx, {
        id: 'append.single.concurrent.no-group',
        title: `single-event appends to new streams, ${sizes.concurrency} concurrent appenders, group commit off`,
        compareWith: refs(ctx, BaselineIds.insertConcurrent, BaselineIds.insertConcurrentTx),
        round: (store) =>
          timeOperations({ operations: sizes.concurrentAppends, workers: sizes.concurrency }, (i) =>
            store.append(uniqueName('conc'), [deposit(i)], { expectedRevision: 'no_stream' }),
          ),
      }),
      ...withoutNotify(ctx, {
        id: 'append.single.concurrent.no-notify',
        title: `single-event appends to new streams, ${sizes.concurrency} concurrent appenders, notify off`,
        compareWith: refs(ctx, BaselineIds.insertConcurrent, BaselineIds.insertConcurrentTx),
        round: (store) =>
          timeOperations({ operations: sizes.concurrentAppends, workers: sizes.concurrency }, (i) =>
            store.append(uniqueName('conc'), [deposit(i)], { expectedRevision: 'no_stream' }),
          ),
      }),
    ]);
    return {
      ...built,
      close: async () => {
        await built.close?.();
        await ctx.backend.sql?.releaseSessions();
      },
    };
  },
};

/** 100-event batches, each to a new stream. */
export const batchAppends: BenchGroup = {
  name: 'append-batch',
  async build(ctx) {
    const { sizes } = ctx;
    const baselines = await sqlBaselines(ctx, (c) => [unnestInsert({ ...c, sizes })]);
    return withStore(ctx, baselines, [
      (store) => ({
        id: 'append.batch',
        backend: ctx.backend.name,
        kind: 'annals',
        title: `${sizes.batchSize}-event batch appends to new streams`,
        unit: 'events/s',
        operation: `append of ${sizes.batchSize} events`,
        compareWith: refs(ctx, BaselineIds.insertUnnest),
        round: () =>
          timeOperations({ operations: sizes.batches, unitsPerOperation: sizes.batchSize }, (i) =>
            store().append(uniqueName('batch'), deposits(i * sizes.batchSize, sizes.batchSize), {
              expectedRevision: 'no_stream',
            }),
          ),
      }),
    ]);
  },
};

/**
 * Racing writers: `racers` loops append one event at a time to the same stream, each with the
 * revision it last saw. A loser learns the actual revision from the ConcurrencyConflict and tries
 * again, as a retry middleware would. Throughput counts successful appends.
 */
export const racingAppends: BenchGroup = {
  name: 'append-racing',
  async build(ctx) {
    const { sizes } = ctx;
    // Compared with the BEGIN/INSERT/COMMIT baseline measured by the sequential group.
    return withStore(
      ctx,
      [],
      [
        (store) => ({
          id: 'append.racing',
          backend: ctx.backend.name,
          kind: 'annals',
          title: `appends to one stream by ${sizes.racers} racing writers with expected revisions`,
          unit: 'appends/s',
          operation: 'successful append of 1 event',
          compareWith: refs(ctx, BaselineIds.insertSequentialTx),
          round: () => race(store(), sizes.racers, sizes.racingAppends),
          derive: (c) => ({ conflictRate: (c.conflicts ?? 0) / Math.max(1, c.attempts ?? 0) }),
        }),
      ],
    );
  },
};

async function race(store: EventStore, racers: number, target: number): Promise<RoundSample> {
  const streamId = uniqueName('race');
  const latencies: number[] = [];
  let successes = 0;
  let conflicts = 0;
  const writer = async (w: number) => {
    let expected: bigint | 'no_stream' = 'no_stream';
    while (successes < target) {
      const t0 = performance.now();
      try {
        const result = await store.append(streamId, [deposit(w)], { expectedRevision: expected });
        latencies.push(performance.now() - t0);
        expected = result.nextExpectedRevision;
        successes++;
      } catch (error) {
        if (!isConcurrencyConflict(error)) throw error;
        conflicts++;
        expected = error.actual;
      }
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: racers }, (_, w) => writer(w)));
  return {
    units: successes,
    elapsedMs: performance.now() - started,
    latenciesMs: latencies,
    counters: { attempts: successes + conflicts, conflicts },
  };
}
