import {
  AggregateNotFound,
  ConcurrencyConflict,
  InMemoryEventStore,
  InvalidArgument,
  Repository,
} from '@annals/core';
import { toArray } from '@annals/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  AccountOpened,
  BankAccount,
  bankEvents,
  upcasters,
} from '../../examples/bank-account/src/domain/index.js';

function readAll(store: InMemoryEventStore, streamId: string) {
  return toArray(store.readStream(streamId));
}

/** An amount in euro cents, as the bank's money events carry it. */
const eur = (value: number) => ({ value, currency: 'EUR' });

function setup() {
  const store = new InMemoryEventStore({ events: bankEvents, strict: true });
  const accounts = new Repository(BankAccount, { store });
  return { store, accounts };
}

describe('Repository', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('saves a new aggregate with expected revision no_stream and loads it back', async () => {
    const { store, accounts } = setup();
    // #region save-and-load
    const account = new BankAccount('acc-1');
    account.open('Ada', 'EUR', 50);
    account.deposit(100);
    await accounts.save(account); // a new stream: expected revision 'no_stream'

    const loaded = await accounts.load('acc-1');
    loaded.withdraw(120); // allowed: the overdraft limit is 50
    await accounts.save(loaded); // expected revision 1, the loaded one
    // #endregion save-and-load
    expect(account.revision).toBe(1n);
    expect(account.uncommittedEvents).toEqual([]);
    expect(loaded.balance).toBe(-20);
    expect(loaded.revision).toBe(2n);
    const events = await readAll(store, 'BankAccount-acc-1');
    expect(events.map((e) => [e.revision, e.type, e.data])).toEqual([
      [0n, 'AccountOpened', { accountId: 'acc-1', owner: 'Ada', currency: 'EUR', overdraftLimit: 50 }],
      [1n, 'MoneyDeposited', { accountId: 'acc-1', amount: eur(100) }],
      [2n, 'MoneyWithdrawn', { accountId: 'acc-1', amount: eur(120) }],
    ]);
  });

  it('a second new aggregate with the same id fails with ConcurrencyConflict', async () => {
    const { accounts } = setup();
    const a = new BankAccount('acc-1');
    a.open('Ada', 'EUR', 0);
    await accounts.save(a);
    const b = new BankAccount('acc-1');
    b.open('Bob', 'EUR', 0);
    await expect(accounts.save(b)).rejects.toBeInstanceOf(ConcurrencyConflict);
  });

  it('a stale aggregate fails with ConcurrencyConflict and writes nothing', async () => {
    const { store, accounts } = setup();
    const account = new BankAccount('acc-1');
    account.open('Ada', 'EUR', 0);
    await accounts.save(account);
    const first = await accounts.load('acc-1');
    const second = await accounts.load('acc-1');
    first.deposit(10);
    await accounts.save(first);
    second.deposit(20);
    const error = await accounts.save(second).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConcurrencyConflict);
    expect((error as ConcurrencyConflict).message).toBe(
      'Expected revision 0 of stream BankAccount-acc-1, found revision 1.',
    );
    expect((await readAll(store, 'BankAccount-acc-1')).map((e) => e.data)).toEqual([
      { accountId: 'acc-1', owner: 'Ada', currency: 'EUR', overdraftLimit: 0 },
      { accountId: 'acc-1', amount: eur(10) },
    ]);
    expect(second.uncommittedEvents).toHaveLength(1);
  });

  it('saving without changes appends nothing and returns undefined', async () => {
    const { store, accounts } = setup();
    const account = new BankAccount('acc-1');
    account.open('Ada', 'EUR', 0);
    await accounts.save(account);
    expect(await accounts.save(account)).toBeUndefined();
    expect(await readAll(store, 'BankAccount-acc-1')).toHaveLength(1);
  });

  it('load of a missing aggregate throws AggregateNotFound; exists tells', async () => {
    const { accounts } = setup();
    const error = await accounts.load('nobody').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AggregateNotFound);
    expect((error as AggregateNotFound).code).toBe('AGGREGATE_NOT_FOUND');
    expect((error as Error).message).toBe(
      'BankAccount nobody was not found: stream BankAccount-nobody does not exist.',
    );
    expect(await accounts.exists('nobody')).toBe(false);
    const account = new BankAccount('acc-1');
    account.open('Ada', 'EUR', 0);
    await accounts.save(account);
    expect(await accounts.exists('acc-1')).toBe(true);
  });

  it('stamps correlation and causation ids given to save', async () => {
    const { store, accounts } = setup();
    const account = new BankAccount('acc-1');
    account.open('Ada', 'EUR', 0);
    await accounts.save(account, {
      correlationId: 'corr-1',
      causationId: 'cmd-1',
      metadata: { userId: 'u-7' },
    });
    const [event] = await readAll(store, 'BankAccount-acc-1');
    expect(event!.metadata).toEqual({ correlationId: 'corr-1', causationId: 'cmd-1', userId: 'u-7' });
  });

  it('derives stream ids one way, configurable per repository', async () => {
    const store = new InMemoryEventStore();
    // #region stream-id
    const accounts = new Repository(BankAccount, {
      store,
      streamId: (type, id) => `${type.toLowerCase()}:${id}`,
    });
    expect(accounts.streamIdOf('acc-1')).toBe('bankaccount:acc-1');
    // #endregion stream-id
    const account = new BankAccount('acc-1');
    account.open('Ada', 'EUR', 0);
    await accounts.save(account);
    expect(await readAll(store, 'bankaccount:acc-1')).toHaveLength(1);
    expect(new Repository(BankAccount, { store }).streamIdOf('acc-1')).toBe('BankAccount-acc-1');
  });

  it('finds the aggregate id of a stream id, for the default and for a prefix strategy', () => {
    const store = new InMemoryEventStore();
    const byDefault = new Repository(BankAccount, { store });
    expect(byDefault.aggregateIdOf('BankAccount-acc-1')).toBe('acc-1');
    expect(byDefault.aggregateIdOf('BankAccount-BankAccount-7')).toBe('BankAccount-7');
    expect(byDefault.aggregateIdOf('Transfer-t-1')).toBeUndefined();
    expect(byDefault.aggregateIdOf('BankAccount-')).toBeUndefined();
    const lower = new Repository(BankAccount, {
      store,
      streamId: (type, id) => `${type.toLowerCase()}:${id}`,
    });
    expect(lower.aggregateIdOf('bankaccount:acc-1')).toBe('acc-1');
    expect(lower.aggregateIdOf('BankAccount-acc-1')).toBeUndefined();
    const hashed = new Repository(BankAccount, { store, streamId: (_type, id) => `h${id.length}` });
    expect(hashed.aggregateIdOf('h5')).toBeUndefined();
  });

  it('refuses an aggregate of another class', async () => {
    const { accounts } = setup();
    await expect(accounts.save({} as BankAccount)).rejects.toThrow(InvalidArgument);
  });

  it('loads events stored at an old schema version, upcast by the store', async () => {
    // The bank's MoneyDeposited is at version 2; version 1 stored a bare number of euro cents.
    const store = new InMemoryEventStore({ events: bankEvents, upcasters });
    await store.append(
      'BankAccount-acc-1',
      [
        AccountOpened.create({ accountId: 'acc-1', owner: 'Ada', currency: 'EUR', overdraftLimit: 0 }),
        { type: 'MoneyDeposited', schemaVersion: 1, data: { accountId: 'acc-1', amount: 70 } },
      ],
      { import: true },
    );
    const account = await new Repository(BankAccount, { store }).load('acc-1');
    expect(account.balance).toBe(70);
  });
});

describe('Repository.loadAt (time travel)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  async function history() {
    const { store, accounts } = setup();
    vi.useFakeTimers({ toFake: ['Date'] });
    const account = new BankAccount('acc-1');
    vi.setSystemTime(new Date('2025-01-01T10:00:00Z'));
    account.open('Ada', 'EUR', 0);
    await accounts.save(account); // revision 0
    vi.setSystemTime(new Date('2025-01-02T10:00:00Z'));
    account.deposit(100);
    await accounts.save(account); // revision 1
    vi.setSystemTime(new Date('2025-01-03T10:00:00Z'));
    account.withdraw(30);
    account.deposit(5);
    await accounts.save(account); // revisions 2 and 3, recorded together
    vi.useRealTimers();
    return { store, accounts };
  }

  it('loads the state at a revision', async () => {
    const { accounts } = await history();
    // #region load-at-revision
    const afterFirstDeposit = await accounts.loadAt('acc-1', { revision: 1 });
    // #endregion load-at-revision
    expect(afterFirstDeposit.balance).toBe(100);
    expect(afterFirstDeposit.revision).toBe(1n);
    expect((await accounts.loadAt('acc-1', { revision: 0n })).balance).toBe(0);
    expect((await accounts.loadAt('acc-1', { revision: 2 })).balance).toBe(70);
    expect((await accounts.loadAt('acc-1', { revision: 3 })).balance).toBe(75);
    expect((await accounts.load('acc-1')).balance).toBe(75);
  });

  it('loads the state at a moment, by each event’s recordedAt', async () => {
    const { accounts } = await history();
    // #region load-at-date
    const endOfJanuarySecond = await accounts.loadAt('acc-1', { at: new Date('2025-01-02T23:59:59Z') });
    // #endregion load-at-date
    expect(endOfJanuarySecond.balance).toBe(100);
    expect((await accounts.loadAt('acc-1', { at: new Date('2025-01-01T10:00:00Z') })).balance).toBe(0);
    expect((await accounts.loadAt('acc-1', { at: new Date('2025-01-02T09:59:59Z') })).balance).toBe(0);
    expect((await accounts.loadAt('acc-1', { at: new Date('2025-01-03T10:00:00Z') })).balance).toBe(75);
  });

  it('a moment before the first event: AggregateNotFound', async () => {
    const { accounts } = await history();
    await expect(accounts.loadAt('acc-1', { at: new Date('2024-12-31T00:00:00Z') })).rejects.toThrow(
      'BankAccount acc-1 was not found: stream BankAccount-acc-1 has no event recorded at or before 2024-12-31T00:00:00.000Z.',
    );
  });

  it('a revision the stream has not reached: InvalidArgument', async () => {
    const { accounts } = await history();
    await expect(accounts.loadAt('acc-1', { revision: 9 })).rejects.toThrow(
      'BankAccount acc-1 has no revision 9: stream BankAccount-acc-1 ends at revision 3.',
    );
    await expect(accounts.loadAt('acc-1', { revision: -1 })).rejects.toThrow(InvalidArgument);
    // Above 2^63 - 1, no store can hold the revision: refused before any read.
    await expect(accounts.loadAt('acc-1', { revision: 2n ** 63n })).rejects.toThrow(
      'loadAt on Repository<BankAccount>: revision must be at most 9223372036854775807 (2^63 - 1)',
    );
    await expect(accounts.loadAt('nobody', { revision: 0 })).rejects.toBeInstanceOf(AggregateNotFound);
  });

  it('a past state is read-only', async () => {
    const { store, accounts } = await history();
    const past = await accounts.loadAt('acc-1', { revision: 1 });
    past.deposit(1);
    await expect(accounts.save(past)).rejects.toThrow(
      'was loaded with loadAt, a past state, and cannot be saved',
    );
    expect(await readAll(store, 'BankAccount-acc-1')).toHaveLength(4);
  });
});
