import { describe, expect, it } from 'vitest';
import { InvalidArgument } from '../../errors/store-errors.js';
import type { CommandExecution } from '../command-bus.js';
import {
  type IdempotencyRecord,
  InMemoryIdempotencyStore,
  idempotency,
  type TransactionalIdempotencyStore,
} from './idempotency.js';

const record = (n: number): IdempotencyRecord => ({ commandType: 'Add', payload: `{"n":${n}}`, result: n });

function execution(commandId: string, n: number, commandIdGenerated?: boolean): CommandExecution {
  return {
    ...(commandIdGenerated === undefined ? {} : { commandIdGenerated }),
    commandId,
    commandType: 'Add',
    correlationId: commandId,
    causationId: commandId,
    metadata: {},
    command: {} as CommandExecution['command'],
    data: { n },
  };
}

describe('InMemoryIdempotencyStore', () => {
  it('keeps at most maxEntries records, forgetting the oldest half when full', async () => {
    const store = new InMemoryIdempotencyStore({ maxEntries: 4 });
    for (const id of ['a', 'b', 'c', 'd']) await store.set(id, record(1));
    expect(store.size).toBe(4);
    for (const id of ['a', 'b', 'c', 'd']) expect(await store.get(id)).toEqual(record(1));
    await store.set('e', record(5));
    expect(await store.get('a')).toBeUndefined();
    expect(await store.get('b')).toBeUndefined();
    for (const id of ['c', 'd', 'e']) expect(await store.get(id)).toBeDefined();
    for (let i = 0; i < 100; i++) {
      await store.set(`x${i}`, record(i));
      expect(store.size).toBeLessThanOrEqual(4);
      // The last maxEntries / 2 records are always kept.
      expect(await store.get(`x${i}`)).toEqual(record(i));
      if (i > 0) expect(await store.get(`x${i - 1}`)).toEqual(record(i - 1));
    }
  });

  it('rewriting a record keeps it once and moves it to the newest records', async () => {
    const store = new InMemoryIdempotencyStore({ maxEntries: 4 });
    for (const id of ['a', 'b', 'c']) await store.set(id, record(1));
    await store.set('a', record(2));
    expect(store.size).toBe(3);
    await store.set('d', record(4));
    await store.set('e', record(5));
    expect(await store.get('a')).toEqual(record(2));
    expect(await store.get('b')).toBeUndefined();
  });

  it('keeps every record with maxEntries Infinity, and refuses a bound below 2', async () => {
    const store = new InMemoryIdempotencyStore({ maxEntries: Number.POSITIVE_INFINITY });
    for (let i = 0; i < 1000; i++) await store.set(`id-${i}`, record(i));
    expect(store.size).toBe(1000);
    expect(await store.get('id-0')).toEqual(record(0));
    for (const maxEntries of [1, 0, -3, 2.5, Number.NaN]) {
      expect(() => new InMemoryIdempotencyStore({ maxEntries })).toThrow(InvalidArgument);
    }
  });
});

describe('idempotency on a bounded store', () => {
  it('answers a remembered repeat with the first result, runs a forgotten one again', async () => {
    const middleware = idempotency({ store: new InMemoryIdempotencyStore({ maxEntries: 2 }) });
    let runs = 0;
    const next = async () => ++runs;
    expect(await middleware(execution('one', 1), next)).toBe(1);
    expect(await middleware(execution('one', 1), next)).toBe(1);
    await expect(middleware(execution('one', 2), next)).rejects.toThrow(InvalidArgument);
    expect(await middleware(execution('two', 1), next)).toBe(2);
    expect(await middleware(execution('three', 1), next)).toBe(3);
    // 'one' was forgotten (the older half of a full store): it runs again.
    expect(await middleware(execution('one', 1), next)).toBe(4);
    expect(runs).toBe(4);
  });

  it('goes through get and set of a store that overrides them', async () => {
    const calls: string[] = [];
    class Traced extends InMemoryIdempotencyStore {
      override get(commandId: string) {
        calls.push(`get ${commandId}`);
        return super.get(commandId);
      }
      override set(commandId: string, value: IdempotencyRecord) {
        calls.push(`set ${commandId}`);
        return super.set(commandId, value);
      }
    }
    const middleware = idempotency({ store: new Traced() });
    expect(await middleware(execution('one', 1), async () => 'first')).toBe('first');
    expect(await middleware(execution('one', 1), async () => 'again')).toBe('first');
    expect(calls).toEqual(['get one', 'set one', 'get one']);
  });

  it('a repeat arriving while the first run is going waits for it; a failure is forgotten', async () => {
    const middleware = idempotency();
    let release!: (value: string) => void;
    const first = middleware(execution('slow', 1), () => new Promise<string>((r) => (release = r)));
    let runs = 0;
    const repeat = middleware(execution('slow', 1), async () => `run ${++runs}`);
    release('first');
    expect(await first).toBe('first');
    expect(await repeat).toBe('first');
    expect(runs).toBe(0);
    await expect(middleware(execution('fails', 1), () => Promise.reject(new Error('boom')))).rejects.toThrow(
      'boom',
    );
    expect(await middleware(execution('fails', 1), async () => 'now')).toBe('now');
  });
});

describe('idempotency of a command whose id the bus generated', () => {
  it('runs it every time, looks nothing up and remembers nothing', async () => {
    const calls: string[] = [];
    class Traced extends InMemoryIdempotencyStore {
      override get(commandId: string) {
        calls.push(`get ${commandId}`);
        return super.get(commandId);
      }
    }
    for (const store of [new InMemoryIdempotencyStore(), new Traced()]) {
      const middleware = idempotency({ store });
      let runs = 0;
      const next = async () => ++runs;
      expect(await middleware(execution('generated', 1, true), next)).toBe(1);
      expect(await middleware(execution('generated', 1, true), next)).toBe(2);
      // Nothing was recorded, so another payload under that id is no reuse either.
      expect(await middleware(execution('generated', 2, true), next)).toBe(3);
      expect(store.size).toBe(0);
      // A caller-given id is remembered as before.
      expect(await middleware(execution('given', 1, false), next)).toBe(4);
      expect(await middleware(execution('given', 1, false), next)).toBe(4);
      expect(store.size).toBe(1);
    }
    expect(calls).toEqual(['get given', 'get given']);
  });
});

describe('idempotency() on a TransactionalIdempotencyStore', () => {
  /** A store that runs the command "in a transaction": the record is kept only when `run` succeeds. */
  function transactional() {
    const records = new Map<string, IdempotencyRecord>();
    const runs: string[] = [];
    const store: TransactionalIdempotencyStore = {
      get: async (id) => records.get(id),
      set: async () => {
        throw new Error('the middleware must not call set on a transactional store');
      },
      async runOnce(id, command, run) {
        const found = records.get(id);
        if (found !== undefined) return found;
        runs.push(id);
        const result = await run();
        const record = { ...command, result: JSON.parse(JSON.stringify(result)) };
        records.set(id, record);
        return record;
      },
    };
    return { store, runs };
  }

  it('hands the command to runOnce and returns the record it returns; a repeat is not run', async () => {
    const { store, runs } = transactional();
    const middleware = idempotency({ store });
    let calls = 0;
    const next = async () => ({ n: ++calls, at: new Date(0) });
    const first = await middleware(execution('c-1', 1), next);
    const again = await middleware(execution('c-1', 1), next);
    expect(first).toEqual({ n: 1, at: '1970-01-01T00:00:00.000Z' });
    expect(again).toEqual(first);
    expect(calls).toBe(1);
    expect(runs).toEqual(['c-1']);
  });

  it('still hands a command with a generated id to runOnce: its appends and its record stay one transaction', async () => {
    const { store, runs } = transactional();
    const middleware = idempotency({ store });
    expect(await middleware(execution('generated-1', 1, true), async () => 'a')).toBe('a');
    expect(await middleware(execution('generated-2', 1, true), async () => 'b')).toBe('b');
    expect(runs).toEqual(['generated-1', 'generated-2']);
  });

  it('refuses a command id reused for another payload, and lets a concurrent repeat wait for the first run', async () => {
    const { store, runs } = transactional();
    const middleware = idempotency({ store });
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slow = async () => {
      await held;
      return 'done';
    };
    const first = middleware(execution('c-2', 1), slow);
    const repeat = middleware(execution('c-2', 1), slow);
    release();
    expect(await Promise.all([first, repeat])).toEqual(['done', 'done']);
    expect(runs).toEqual(['c-2']);
    await expect(middleware(execution('c-2', 2), slow)).rejects.toBeInstanceOf(InvalidArgument);
  });
});
