import {
  Aggregate,
  AggregateRoot,
  Apply,
  forget,
  InMemoryEventStore,
  InMemorySnapshotStore,
  isEnvelope,
  type ReadStreamOptions,
  type RecordedEvent,
  Repository,
  type Snapshot,
  type SnapshotStore,
} from '@annals/core';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { FORGOTTEN_OWNER } from '../../examples/bank-account/src/domain/events.js';
import {
  BankAccount,
  bankEvents,
  type Deposited,
  MoneyDeposited,
} from '../../examples/bank-account/src/domain/index.js';

/** An in-memory store that remembers where each stream read started. */
class RecordingStore extends InMemoryEventStore {
  readonly reads: (bigint | number | undefined)[] = [];
  override readStream(streamId: string, options: ReadStreamOptions = {}): AsyncGenerator<RecordedEvent> {
    this.reads.push(options.fromRevision);
    return super.readStream(streamId, options);
  }
}

function state(account: BankAccount) {
  return {
    revision: account.revision,
    owner: account.owner,
    currency: account.currency,
    balance: account.balance,
    overdraftLimit: account.overdraftLimit,
    opened: account.opened,
    closed: account.closed,
    transfers: account.transfers,
  };
}

async function openWithDeposits(accounts: Repository<BankAccount>, id: string, deposits: number[]) {
  const account = new BankAccount(id);
  account.open('Ada', 'EUR', 100);
  await accounts.save(account);
  for (const amount of deposits) {
    account.deposit(amount);
    await accounts.save(account);
  }
  return account;
}

describe('snapshots', () => {
  it('are taken every N events and used by the next load', async () => {
    const store = new RecordingStore({ events: bankEvents });
    const snapshots = new InMemorySnapshotStore();
    // #region snapshots
    const accounts = new Repository(BankAccount, { store, snapshots: { store: snapshots, every: 3 } });
    // #endregion snapshots
    await openWithDeposits(accounts, 'acc-1', [10, 20]); // revisions 0..2
    expect((await snapshots.load('BankAccount-acc-1'))?.revision).toBe(2n);
    const account = await openWithDeposits(accounts, 'acc-2', [1, 2, 3, 4, 5]); // revisions 0..5
    const snapshot = await snapshots.load('BankAccount-acc-2');
    expect(snapshot).toMatchObject({
      streamId: 'BankAccount-acc-2',
      aggregateType: 'BankAccount',
      snapshotVersion: 2,
      revision: 5n,
    });
    // The owner's name is personal data of the holder: the whole state is sealed under their key.
    expect(isEnvelope(snapshot!.state)).toBe(true);
    expect(JSON.stringify(snapshot!.state)).not.toContain('Ada');
    expect(account.revision).toBe(5n);

    store.reads.length = 0;
    const loaded = await accounts.load('acc-2');
    expect(store.reads).toEqual([6n]); // only the events after the snapshot were read
    expect(state(loaded)).toEqual(state(account));
  });

  it('a load that replays N events or more takes a new snapshot', async () => {
    const store = new InMemoryEventStore({ events: bankEvents });
    const snapshots = new InMemorySnapshotStore();
    await openWithDeposits(new Repository(BankAccount, { store }), 'acc-1', [1, 2, 3, 4]); // no snapshots yet
    const accounts = new Repository(BankAccount, { store, snapshots: { store: snapshots, every: 5 } });
    await accounts.load('acc-1');
    expect((await snapshots.load('BankAccount-acc-1'))?.revision).toBe(4n);
  });

  it('a snapshot of another shape version is ignored (not misread) and taken again', async () => {
    const store = new RecordingStore({ events: bankEvents });
    const snapshots = new InMemorySnapshotStore();
    const v1 = new Repository(BankAccount, { store, snapshots: { store: snapshots, every: 2 } });
    await openWithDeposits(v1, 'acc-1', [10, 20, 30]); // snapshot at revision 3, version 2
    // Corrupt it in a way that would show if it were read: an old shape with a wrong balance.
    const old = (await snapshots.load('BankAccount-acc-1'))!;
    await snapshots.save({ ...old, state: { funds: 999 }, revision: 3n });

    // #region snapshot-version
    @Aggregate('BankAccount', { snapshotVersion: 3 })
    class BankAccountV3 extends BankAccount {}
    // #endregion snapshot-version
    const v2 = new Repository(BankAccountV3, { store, snapshots: { store: snapshots, every: 2 } });
    store.reads.length = 0;
    const loaded = await v2.load('acc-1');
    expect(store.reads).toEqual([0n]);
    expect(loaded.balance).toBe(60);
    expect(loaded).not.toHaveProperty('funds');
    expect(await snapshots.load('BankAccount-acc-1')).toMatchObject({ snapshotVersion: 3, revision: 3n });
    store.reads.length = 0;
    expect((await v2.load('acc-1')).balance).toBe(60);
    expect(store.reads, 'the new snapshot is used').toEqual([4n]);
  });

  it('of an aggregate holding personal data: sealed, ignored once the holder is forgotten, never written in clear', async () => {
    const store = new RecordingStore({ events: bankEvents });
    const snapshots = new InMemorySnapshotStore();
    const accounts = new Repository(BankAccount, { store, snapshots: { store: snapshots, every: 2 } });
    await openWithDeposits(accounts, 'acc-1', [10, 20, 30]); // snapshot at revision 3
    const sealed = (await snapshots.load('BankAccount-acc-1'))!;
    expect(JSON.stringify(sealed.state)).not.toContain('Ada');

    await forget(store, 'acc-1');
    store.reads.length = 0;
    const loaded = await accounts.load('acc-1');
    expect(store.reads, 'the sealed snapshot is unreadable: replayed from the start').toEqual([0n]);
    expect([loaded.owner, loaded.balance]).toEqual([FORGOTTEN_OWNER, 60]);
    loaded.deposit(1);
    loaded.deposit(2);
    await accounts.save(loaded);
    // No snapshot is taken while a subject of the aggregate is forgotten: the old one stays unreadable.
    expect((await snapshots.load('BankAccount-acc-1'))?.revision).toBe(3n);
    expect(JSON.stringify((await snapshots.load('BankAccount-acc-1'))!.state)).not.toContain('Ada');
  });

  it('a snapshot that cannot be restored is reported and ignored', async () => {
    const store = new InMemoryEventStore({ events: bankEvents });
    const snapshots = new InMemorySnapshotStore();
    const onError = vi.fn();
    const accounts = new Repository(BankAccount, {
      store,
      snapshots: { store: snapshots, every: 2, onError },
    });
    await openWithDeposits(accounts, 'acc-1', [10]);
    const taken = (await snapshots.load('BankAccount-acc-1'))!;
    await snapshots.save({ ...taken, state: 'not an object' });
    const loaded = await accounts.load('acc-1');
    expect(loaded.balance).toBe(10);
    expect(onError).toHaveBeenCalledWith(expect.any(Error), {
      streamId: 'BankAccount-acc-1',
      operation: 'load',
    });
  });

  it('a failing snapshot store does not fail loads or saves', async () => {
    const store = new InMemoryEventStore({ events: bankEvents });
    const broken: SnapshotStore = {
      load: () => Promise.reject(new Error('snapshot db down')),
      save: () => Promise.reject(new Error('snapshot db down')),
    };
    const onError = vi.fn();
    const accounts = new Repository(BankAccount, { store, snapshots: { store: broken, every: 1, onError } });
    const account = await openWithDeposits(accounts, 'acc-1', [5]);
    expect(account.revision).toBe(1n);
    expect((await accounts.load('acc-1')).balance).toBe(5);
    expect(onError.mock.calls.map(([error, detail]) => [(error as Error).message, detail.operation])).toEqual(
      [
        ['snapshot db down', 'save'],
        ['snapshot db down', 'save'],
        ['snapshot db down', 'load'],
        ['snapshot db down', 'save'],
      ],
    );
  });

  it('toSnapshot / fromSnapshot can choose the stored form', async () => {
    // #region custom-snapshot
    @Aggregate('Tally', { snapshotVersion: 1 })
    class Tally extends AggregateRoot {
      amounts = new Set<number>();
      add(amount: number) {
        this.raise(MoneyDeposited, { accountId: this.id, amount: { value: amount, currency: 'EUR' } });
      }
      @Apply(MoneyDeposited)
      protected onDeposited(e: Deposited) {
        this.amounts.add(e.amount.value);
      }
      override toSnapshot() {
        return { amounts: [...this.amounts] }; // JSON-friendly for a database snapshot store
      }
      override fromSnapshot(state: { amounts: number[] }) {
        this.amounts = new Set(state.amounts);
      }
    }
    // #endregion custom-snapshot
    const store = new InMemoryEventStore({ events: bankEvents });
    const snapshots = new InMemorySnapshotStore();
    const tallies = new Repository(Tally, { store, snapshots: { store: snapshots, every: 2 } });
    const tally = new Tally('t-1');
    tally.add(3);
    tally.add(4);
    tally.add(3);
    await tallies.save(tally);
    expect((await snapshots.load('Tally-t-1'))?.state).toEqual({ amounts: [3, 4] });
    expect([...(await tallies.load('t-1')).amounts]).toEqual([3, 4]);
  });

  it('time travel to a revision before the snapshot ignores it; at or after uses it', async () => {
    const store = new RecordingStore({ events: bankEvents });
    const snapshots = new InMemorySnapshotStore();
    const accounts = new Repository(BankAccount, { store, snapshots: { store: snapshots, every: 4 } });
    await openWithDeposits(accounts, 'acc-1', [1, 2, 3, 4, 5]); // snapshot at revision 3
    expect((await snapshots.load('BankAccount-acc-1'))?.revision).toBe(3n);
    store.reads.length = 0;
    expect((await accounts.loadAt('acc-1', { revision: 2 })).balance).toBe(3);
    expect((await accounts.loadAt('acc-1', { revision: 3 })).balance).toBe(6);
    expect((await accounts.loadAt('acc-1', { revision: 5 })).balance).toBe(15);
    expect(store.reads).toEqual([0n, 4n]); // revision 3 came from the snapshot alone
  });

  it('never change the loaded state (property: random histories, with and without snapshots)', async () => {
    const operation = fc.oneof(
      fc.record({ kind: fc.constant('deposit' as const), amount: fc.integer({ min: 1, max: 500 }) }),
      fc.record({ kind: fc.constant('withdraw' as const), amount: fc.integer({ min: 1, max: 500 }) }),
    );
    const history = fc.array(fc.tuple(fc.array(operation, { minLength: 1, maxLength: 4 })), {
      minLength: 0,
      maxLength: 12,
    });
    await fc.assert(
      fc.asyncProperty(
        history,
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 0, max: 300 }),
        fc.nat(),
        async (batches, every, overdraftLimit, revisionSeed) => {
          const store = new InMemoryEventStore({ events: bankEvents });
          const snapshots = new InMemorySnapshotStore();
          const withSnapshots = new Repository(BankAccount, {
            store,
            snapshots: { store: snapshots, every },
          });
          const withoutSnapshots = new Repository(BankAccount, { store });

          const opened = new BankAccount('acc-1');
          opened.open('Ada', 'EUR', overdraftLimit);
          await withSnapshots.save(opened);
          for (const [batch] of batches) {
            const account = await withSnapshots.load('acc-1');
            for (const op of batch) {
              try {
                if (op.kind === 'deposit') account.deposit(op.amount);
                else account.withdraw(op.amount);
              } catch {
                // an overdraft refusal: the operation raises nothing
              }
            }
            await withSnapshots.save(account);
          }

          const expected = state(await withoutSnapshots.load('acc-1'));
          expect(state(await withSnapshots.load('acc-1'))).toEqual(expected);
          const last = expected.revision as bigint;
          const revision = BigInt(revisionSeed) % (last + 1n);
          expect(state(await withSnapshots.loadAt('acc-1', { revision }))).toEqual(
            state(await withoutSnapshots.loadAt('acc-1', { revision })),
          );
          await snapshots.clear();
          expect(state(await withSnapshots.load('acc-1'))).toEqual(expected);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('InMemorySnapshotStore', () => {
  it('returns copies and keeps the latest snapshot per stream', async () => {
    const snapshots = new InMemorySnapshotStore();
    const snapshot: Snapshot = {
      streamId: 's-1',
      aggregateType: 'X',
      snapshotVersion: 1,
      revision: 1n,
      state: { a: [1] },
      takenAt: new Date(0),
    };
    await snapshots.save(snapshot);
    (snapshot.state as { a: number[] }).a.push(2);
    const loaded = (await snapshots.load('s-1'))!;
    expect(loaded.state).toEqual({ a: [1] });
    (loaded.state as { a: number[] }).a.push(3);
    expect((await snapshots.load('s-1'))!.state).toEqual({ a: [1] });
    await snapshots.save({ ...snapshot, revision: 5n, state: { a: [9] } });
    expect((await snapshots.load('s-1'))!.revision).toBe(5n);
    expect(snapshots.size).toBe(1);
    await snapshots.delete('s-1');
    expect(await snapshots.load('s-1')).toBeUndefined();
    await expect(snapshots.save({ ...snapshot, revision: -1n })).rejects.toThrow(
      'The snapshot of s-1 needs a bigint revision >= 0, found -1.',
    );
  });
});
