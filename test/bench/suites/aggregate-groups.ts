import 'reflect-metadata';
import {
  type CommandMiddleware,
  type EventStore,
  idempotency,
  logging,
  Repository,
  retryOnConcurrency,
} from '@annals/core';
import { registerAnnals } from '@annals/core/tsyringe';
import { container } from 'tsyringe';
import { BaselineIds, createBaselineTable, selectStream } from '../baselines/physical-baseline.js';
import { type BenchGroup, baselineRef, type GroupContext } from '../harness/group.js';
import { timeOperations } from '../harness/timing.js';
import type { MeasurementSpec } from '../harness/types.js';
import { uniqueName } from '../harness/unique.js';
import { BenchAccount, BenchDeposit, BenchDepositHandler } from '../workload/bench-account.js';
import { deposits } from '../workload/bench-events.js';
import { withStore } from './append-groups.js';

/** Writes `length` deposits to the stream of account `id` in batches. */
async function seedAccount(
  store: EventStore,
  streamId: string,
  length: number,
  batchSize: number,
): Promise<void> {
  for (let done = 0; done < length; done += batchSize) {
    await store.append(streamId, deposits(done, Math.min(batchSize, length - done)));
  }
}

function loadSpec(ctx: GroupContext, store: () => EventStore, withSnapshot: boolean): MeasurementSpec {
  const { sizes, backend } = ctx;
  const events = sizes.aggregateEvents.toLocaleString('en-US');
  const id = uniqueName('account');
  let accounts: Repository<BenchAccount> | undefined;
  return {
    id: withSnapshot ? 'aggregate.load.snapshot' : 'aggregate.load',
    backend: backend.name,
    kind: 'annals',
    title: `aggregate load of a ${events}-event stream${withSnapshot ? ', from a snapshot' : ''}`,
    unit: 'loads/s',
    operation: `load of a ${events}-event aggregate`,
    compareWith: baselineRef(ctx, BaselineIds.selectAggregateStream),
    setup: async () => {
      const snapshots = withSnapshot ? backend.snapshotStore(store()) : undefined;
      accounts = new Repository(BenchAccount, {
        store: store(),
        ...(snapshots === undefined ? {} : { snapshots: { store: snapshots, every: 100 } }),
      });
      await seedAccount(store(), accounts.streamIdOf(id), sizes.aggregateEvents, sizes.batchSize);
      // The first load replays every event (and, with snapshots on, takes the snapshot).
      const loaded = await accounts.load(id);
      if (loaded.deposits !== sizes.aggregateEvents) {
        throw new Error(`the aggregate loaded ${loaded.deposits} events, expected ${sizes.aggregateEvents}`);
      }
      if (snapshots !== undefined) {
        const snapshot = await snapshots.load(accounts.streamIdOf(id));
        if (snapshot?.revision !== BigInt(sizes.aggregateEvents - 1)) {
          throw new Error(`no snapshot at revision ${sizes.aggregateEvents - 1} after the first load`);
        }
      }
    },
    round: () => timeOperations({ operations: sizes.aggregateLoads }, () => accounts!.load(id)),
  };
}

/** Repository.load of one long stream, replaying every event or starting from a snapshot. */
export const aggregateLoads: BenchGroup = {
  name: 'aggregate-load',
  async build(ctx) {
    const { sql } = ctx.backend;
    const schema = ctx.backend.schema;
    if (sql !== undefined) await createBaselineTable(sql, schema);
    const baselines = sql === undefined ? [] : [selectStream({ sql, schema, sizes: ctx.sizes }, true)];
    return withStore(ctx, baselines, [
      (store) => loadSpec(ctx, store, false),
      (store) => loadSpec(ctx, store, true),
    ]);
  },
};

/**
 * A logger that keeps nothing, at level `warn` as a production logger often is (it answers
 * `isLevelEnabled` as pino does): the measurement is the middleware, not a log sink's I/O.
 */
const discard = {
  info: () => {},
  warn: () => {},
  error: () => {},
  isLevelEnabled: (level: string) => level !== 'info' && level !== 'debug',
};

/**
 * The middleware a production bus runs, outermost first: logging, idempotency by command id, and
 * retry on ConcurrencyConflict (the order their docs ask for).
 */
export function defaultMiddleware(): CommandMiddleware[] {
  return [logging(discard), idempotency(), retryOnConcurrency()];
}

/**
 * Commands through a bus wired by `registerAnnals` (tsyringe resolves the handler per command):
 * validate, middleware, load the account, raise, save. Each round deposits once into each of its
 * accounts, so streams stay short and every round does the same work.
 */
export const commandBus: BenchGroup = {
  name: 'command-bus',
  backends: ['memory'],
  async build(ctx) {
    const { sizes } = ctx;
    return withStore(
      ctx,
      [],
      [
        (store) => {
          const scope = container.createChildContainer();
          let bus: ReturnType<typeof registerAnnals>['bus'] | undefined;
          const accounts = Array.from({ length: sizes.commands }, () => uniqueName('acc'));
          return {
            id: 'command.bus',
            backend: ctx.backend.name,
            kind: 'annals',
            title: 'commands through the bus, default middleware (logging, idempotency, retry)',
            unit: 'commands/s',
            operation: 'command: validate, load, raise, save',
            compareWith: [
              { id: 'command.bare', backend: ctx.backend.name },
              { id: 'append.single.sequential', backend: ctx.backend.name },
            ],
            setup: async () => {
              ({ bus } = registerAnnals(scope, {
                store: store(),
                handlers: [BenchDepositHandler],
                middleware: defaultMiddleware(),
              }));
              const repository = new Repository(BenchAccount, { store: store() });
              for (const id of accounts) await seedAccount(store(), repository.streamIdOf(id), 1, 1);
            },
            round: () =>
              timeOperations({ operations: sizes.commands }, (i) =>
                bus!.execute(BenchDeposit, { accountId: accounts[i]!, amount: 100, note: 'bench' }),
              ),
            teardown: async () => scope.dispose(),
          };
        },
        (store) => bareCommandLoop(ctx, store),
      ],
    );
  },
};

/**
 * The bus's baseline: the handler's own work without a bus, one account after another: load the
 * account through a repository, deposit, save. What the bus and its middleware add is the
 * difference.
 */
function bareCommandLoop(ctx: GroupContext, store: () => EventStore): MeasurementSpec {
  const accounts = Array.from({ length: ctx.sizes.commands }, () => uniqueName('bare'));
  let repository: Repository<BenchAccount> | undefined;
  return {
    id: 'command.bare',
    backend: ctx.backend.name,
    kind: 'baseline',
    title: 'load, deposit, save in a loop, no bus',
    unit: 'commands/s',
    operation: 'load, raise, save',
    setup: async () => {
      repository = new Repository(BenchAccount, { store: store() });
      for (const id of accounts) await seedAccount(store(), repository.streamIdOf(id), 1, 1);
    },
    round: () =>
      timeOperations({ operations: ctx.sizes.commands }, async (i) => {
        const account = await repository!.load(accounts[i]!);
        account.deposit(100, 'bench');
        await repository!.save(account);
      }),
  };
}
