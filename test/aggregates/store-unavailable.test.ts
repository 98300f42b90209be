import {
  AnnalsError,
  type AppendOptions,
  type CommandExecution,
  type EventStore,
  InMemoryEventStore,
  type NewEvent,
  Repository,
  retryOnConcurrency,
} from '@annals/core';
import { toArray } from '@annals/testing';
import { describe, expect, it } from 'vitest';
import { BankAccount, bankEvents } from '../../examples/bank-account/src/domain/index.js';

/** What an adapter throws when the connection died during an append (code STORE_UNAVAILABLE). */
const unavailable = () =>
  new AnnalsError('STORE_UNAVAILABLE', 'The database connection failed during an append: test.');

/**
 * An in-memory store whose next appends fail with StoreUnavailable: `'after'` ones commit first (the
 * connection died at the commit: the caller cannot know), `'before'` ones do not.
 */
function unreliable(failures: ('before' | 'after')[]) {
  const inner = new InMemoryEventStore({ events: bankEvents, strict: true });
  const attempts: string[][] = [];
  const store = new Proxy(inner, {
    get(target, key, receiver) {
      if (key !== 'append') return Reflect.get(target, key, receiver);
      return async (streamId: string, events: readonly NewEvent[], options?: AppendOptions) => {
        attempts.push(events.map((e) => e.id ?? '(none)'));
        const failure = failures.shift();
        if (failure === 'before') throw unavailable();
        const result = await target.append(streamId, events, options);
        if (failure === 'after') throw unavailable();
        return result;
      };
    },
  }) as EventStore;
  return { inner, store, attempts };
}

function stored(store: InMemoryEventStore, streamId: string) {
  return toArray(store.readStream(streamId));
}

describe('Repository.save when the store is unavailable', () => {
  it('an append that committed although StoreUnavailable was reported is saved once, not reported as failed', async () => {
    const { inner, store, attempts } = unreliable(['after']);
    const accounts = new Repository(BankAccount, { store });
    const account = new BankAccount('acc-1');
    account.open('Ada', 'EUR', 50);
    account.deposit(10);
    const result = await accounts.save(account);
    expect(result?.nextExpectedRevision).toBe(1n);
    expect(account.revision).toBe(1n);
    const events = await stored(inner, 'BankAccount-acc-1');
    expect(events.map((e) => e.type)).toEqual(['AccountOpened', 'MoneyDeposited']);
    expect(attempts, 'the retry carries the same event ids').toHaveLength(2);
    expect(attempts[1]).toEqual(attempts[0]);
    expect(events.map((e) => e.id)).toEqual(attempts[0]);
  });

  it('an append that did not commit is retried with the same ids until it does', async () => {
    const { inner, store, attempts } = unreliable(['before', 'before', 'after']);
    const accounts = new Repository(BankAccount, { store });
    const account = new BankAccount('acc-2');
    account.open('Bo', 'EUR', 0);
    await accounts.save(account);
    expect(new Set(attempts.map((ids) => ids.join()))).toHaveProperty('size', 1);
    expect((await stored(inner, 'BankAccount-acc-2')).map((e) => e.id)).toEqual(attempts[0]);
  });

  it('gives up after a bounded number of attempts with the StoreUnavailable, having written nothing', async () => {
    const { inner, store, attempts } = unreliable(Array(10).fill('before'));
    const accounts = new Repository(BankAccount, { store });
    const account = new BankAccount('acc-3');
    account.open('Cy', 'EUR', 0);
    const error = await accounts.save(account).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'STORE_UNAVAILABLE' });
    expect(attempts.length).toBeGreaterThan(1);
    expect(attempts.length).toBeLessThanOrEqual(5);
    let count = 0;
    for await (const _ of inner.readAll()) count++;
    expect(count, 'events in the whole store').toBe(0);
    expect(account.uncommittedEvents, 'the instance stays uncommitted, to be saved again').toHaveLength(1);
  });
});

describe('retryOnConcurrency and StoreUnavailable', () => {
  it('never re-runs a command after StoreUnavailable, even when isRetryable says yes: the re-run would raise new event ids', async () => {
    const middleware = retryOnConcurrency({ maxAttempts: 5, isRetryable: () => true, sleep: async () => {} });
    let runs = 0;
    const error = await Promise.resolve(
      middleware({} as CommandExecution, async () => {
        runs++;
        throw unavailable();
      }),
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'STORE_UNAVAILABLE' });
    expect(runs).toBe(1);
  });
});
