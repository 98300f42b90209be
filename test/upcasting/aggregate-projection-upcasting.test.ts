import {
  Aggregate,
  AggregateRoot,
  Apply,
  defineEvent,
  defineProjection,
  InMemoryEventStore,
  InMemorySnapshotStore,
  type NewEvent,
  ProjectionRunner,
  type RecordedEvent,
  Repository,
  type Snapshot,
  UpcasterRegistry,
  uuidv7,
} from '@annals/core';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  AccountOpened,
  type Deposited,
  MoneyDeposited,
  moneyEvents,
  upcasters,
} from './fixtures/money-events.js';

/** Today's aggregate: it only knows MoneyDeposited v3. */
@Aggregate('Account')
class Account extends AggregateRoot {
  balance = 0;
  channels: string[] = [];
  static applied = 0;

  deposit(value: number) {
    this.raise(MoneyDeposited, { accountId: this.id, amount: { value, currency: 'EUR' }, channel: 'online' });
  }

  @Apply(AccountOpened)
  protected onOpened() {
    Account.applied++;
  }

  @Apply(MoneyDeposited)
  protected onDeposited(e: Deposited) {
    Account.applied++;
    this.balance += e.amount.value;
    this.channels.push(e.channel);
  }
}

/** The history of account `a-1` as an old release stored it: v1, v2, a renamed FundsAdded, then v3. */
function oldHistory(): NewEvent[] {
  return [
    AccountOpened.create({ accountId: 'a-1', owner: 'Ada' }, { id: uuidv7() }),
    {
      id: uuidv7(),
      type: 'MoneyDeposited',
      schemaVersion: 1,
      data: { accountId: 'a-1', amount: 100 },
      metadata: { channel: 'web' },
    },
    { id: uuidv7(), type: 'FundsAdded', schemaVersion: 1, data: { account: 'a-1', cents: 20 } },
    {
      id: uuidv7(),
      type: 'MoneyDeposited',
      schemaVersion: 2,
      data: { accountId: 'a-1', amount: { value: 3, currency: 'EUR' } },
    },
    MoneyDeposited.create(
      { accountId: 'a-1', amount: { value: 4000, currency: 'EUR' }, channel: 'branch' },
      { id: uuidv7() },
    ),
  ];
}

const stores: InMemoryEventStore[] = [];
function newStore(): InMemoryEventStore {
  const store = new InMemoryEventStore({ events: moneyEvents, upcasters });
  stores.push(store);
  return store;
}
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
  Account.applied = 0;
});

describe('aggregate loads read upcast events', () => {
  it('Repository.load applies an imported v1/v2/renamed history through the v3 handler', async () => {
    const store = newStore();
    await store.append('Account-a-1', oldHistory(), { import: true });
    const account = await new Repository(Account, { store }).load('a-1');
    expect(account.balance).toBe(4123);
    expect(account.channels).toEqual(['online', 'unknown', 'unknown', 'branch']);
    expect(account.revision).toBe(4n);
  });

  it('loadAt a revision inside the old part of the history', async () => {
    const store = newStore();
    await store.append('Account-a-1', oldHistory(), { import: true });
    const past = await new Repository(Account, { store }).loadAt('a-1', { revision: 2 });
    expect(past.balance).toBe(120);
  });
});

describe('snapshots stay valid across event upcasts (they hold state, not events)', () => {
  /** The release before: MoneyDeposited was v1 (a bare number of cents) and nothing was upcast. */
  const DepositedV1 = defineEvent('MoneyDeposited', {
    version: 1,
    schema: z.object({ accountId: z.string(), amount: z.number().int() }),
  });

  @Aggregate('Account')
  class AccountBefore extends AggregateRoot {
    balance = 0;
    channels: string[] = [];

    deposit(amount: number) {
      this.raise(DepositedV1, { accountId: this.id, amount });
    }

    @Apply(AccountOpened)
    protected onOpened() {}

    @Apply(DepositedV1)
    protected onDeposited(e: { amount: number }) {
      this.balance += e.amount;
      this.channels.push('unknown');
    }
  }

  it('a snapshot taken before the event changed shape is still used after, and gives the state a full replay gives', async () => {
    // 1. The old release writes v1 events and takes a snapshot at revision 3.
    const before = new InMemoryEventStore({ events: [AccountOpened, DepositedV1] });
    stores.push(before);
    const snapshots = new InMemorySnapshotStore();
    const oldAccounts = new Repository(AccountBefore, {
      store: before,
      snapshots: { store: snapshots, every: 2 },
    });
    const opened = new AccountBefore('a-1');
    (opened as unknown as { raise: (d: unknown, data: unknown) => void }).raise(AccountOpened, {
      accountId: 'a-1',
      owner: 'Ada',
    });
    for (const amount of [10, 20, 30]) opened.deposit(amount);
    await oldAccounts.save(opened);
    const snapshot = (await snapshots.load('Account-a-1')) as Snapshot;
    expect(snapshot.revision).toBe(3n);
    expect(snapshot.state).toMatchObject({ balance: 60 });

    // 2. The new release (MoneyDeposited v3 + upcasters) reads the same stored rows: they are
    //    imported unchanged (same ids, v1) into its store, as a migration between stores would do.
    const after = newStore();
    const rows: NewEvent[] = [];
    for await (const e of before.readStream('Account-a-1')) {
      rows.push({
        id: e.id,
        type: e.type,
        schemaVersion: e.schemaVersion,
        data: e.data,
        metadata: e.metadata,
      });
    }
    await after.append('Account-a-1', rows, { import: true });
    await after.append('Account-a-1', [
      MoneyDeposited.create({ accountId: 'a-1', amount: { value: 5, currency: 'EUR' }, channel: 'branch' }),
    ]);

    // 3. Loading with the old snapshot replays only the event after it, through the v3 handler.
    const withSnapshot = await new Repository(Account, {
      store: after,
      snapshots: { store: snapshots, every: 100 },
    }).load('a-1');
    expect(Account.applied).toBe(1);
    expect(withSnapshot.balance).toBe(65);

    // 4. Deleting snapshots never changes a loaded state: a full replay of the upcast events agrees.
    Account.applied = 0;
    const replayed = await new Repository(Account, { store: after }).load('a-1');
    expect(Account.applied).toBe(5);
    expect({ balance: replayed.balance, channels: replayed.channels, revision: replayed.revision }).toEqual({
      balance: withSnapshot.balance,
      channels: withSnapshot.channels,
      revision: withSnapshot.revision,
    });
  });
});

describe('projections receive upcast events', () => {
  it('a projection on MoneyDeposited gets the renamed FundsAdded and old versions as v3, catch-up and live', async () => {
    const store = newStore();
    await store.append('Account-a-1', oldHistory(), { import: true });
    const seen: string[] = [];
    const projection = defineProjection({
      name: 'deposits',
      events: [MoneyDeposited],
      handlers: {
        MoneyDeposited: (e: RecordedEvent<'MoneyDeposited', Deposited>) => {
          seen.push(`${e.type} v${e.schemaVersion} ${e.data.amount.value} ${e.data.channel}`);
        },
      },
    });
    const runner = new ProjectionRunner({
      store,
      projections: [projection],
      logger: { warn() {}, error() {} },
    });
    await runner.start();
    try {
      await runner.waitUntilCaughtUp(undefined, { signal: AbortSignal.timeout(5_000) });
      await store.append(
        'Account-a-2',
        [{ type: 'FundsAdded', schemaVersion: 1, data: { account: 'a-2', cents: 7 } }],
        {
          import: true,
        },
      );
      await runner.waitUntilCaughtUp(undefined, { signal: AbortSignal.timeout(5_000) });
      expect(seen).toEqual([
        'MoneyDeposited v3 100 online',
        'MoneyDeposited v3 20 unknown',
        'MoneyDeposited v3 3 unknown',
        'MoneyDeposited v3 4000 branch',
        'MoneyDeposited v3 7 unknown',
      ]);
    } finally {
      await runner.stop();
    }
  });

  it('a bad upcaster stops the projection with the UpcastFailed in its status; nothing is skipped', async () => {
    let broken = false;
    const sabotaged = new UpcasterRegistry();
    for (const step of upcasters.list()) {
      sabotaged.register(
        step.type === 'MoneyDeposited' && step.from === 2
          ? { ...step, up: (d: object, m) => (broken ? { ...d, channel: 'carrier pigeon' } : step.up(d, m)) }
          : step,
      );
    }
    const store = new InMemoryEventStore({ events: moneyEvents, upcasters: sabotaged });
    stores.push(store);
    await store.append('Account-a-1', oldHistory(), { import: true });
    broken = true;
    const seen: string[] = [];
    const projection = defineProjection({
      name: 'deposits',
      events: [MoneyDeposited],
      handlers: { MoneyDeposited: (e: RecordedEvent) => void seen.push(e.id) },
      failure: { retries: 1, backoff: { initialDelayMs: 1, maxDelayMs: 2 } },
    });
    const runner = new ProjectionRunner({
      store,
      projections: [projection],
      logger: { warn() {}, error() {} },
    });
    await runner.start();
    try {
      // Waits for the failure; the bound only catches a runner that never fails.
      const deadline = Date.now() + 60_000;
      while (runner.status('deposits')?.state !== 'failed' && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const status = runner.status('deposits')!;
      expect(status.state).toBe('failed');
      expect(status.lastError?.error).toMatchObject({ code: 'UPCAST_FAILED', toVersion: 3 });
      expect(status.lastError?.message).toContain('channel');
      expect(seen).toEqual([]);
      expect(status.position).toBe(0n);
    } finally {
      await runner.stop();
    }
  });
});
