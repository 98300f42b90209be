import { describe, expect, it } from 'vitest';
import { isAnnalsError } from '../errors/annals-error.js';
import { MAX_KEY_BYTES } from '../store/limits.js';
import { InMemoryDeadLetterStore } from './dead-letter-store.js';
import { InMemoryCheckpointStore } from './in-memory-checkpoint-store.js';
import { InMemoryLeaseStore } from './in-memory-lease-store.js';
import { CheckpointConflict, isCheckpointConflict, isLeaseLost, LeaseLost } from './projection-errors.js';

describe('InMemoryLeaseStore', () => {
  it('is exclusive until the lease expires, then another owner may take it', async () => {
    let now = 1_000;
    const leases = new InMemoryLeaseStore({ now: () => now });
    expect(await leases.acquire('p', 'a', 100)).toBe(true);
    expect(await leases.acquire('p', 'b', 100)).toBe(false);
    expect(await leases.acquire('p', 'a', 100)).toBe(true); // re-acquiring renews
    expect((await leases.get('p'))?.owner).toBe('a');
    now += 100;
    expect(await leases.get('p')).toBeUndefined();
    expect(await leases.acquire('p', 'b', 100)).toBe(true);
    expect(await leases.renew('p', 'a', 100)).toBe(false);
    expect(await leases.renew('p', 'b', 100)).toBe(true);
    expect((await leases.get('p'))?.expiresAt.getTime()).toBe(now + 100);
  });

  it('releases only for the holder and lists unexpired leases by prefix', async () => {
    let now = 0;
    const leases = new InMemoryLeaseStore({ now: () => now });
    await leases.acquire('p/members/b', 'b', 50);
    await leases.acquire('p/members/a', 'a', 100);
    await leases.acquire('q/members/c', 'c', 100);
    await leases.release('p/members/a', 'b');
    expect((await leases.list('p/members/')).map((l) => l.owner)).toEqual(['a', 'b']);
    now = 60;
    expect((await leases.list('p/members/')).map((l) => l.owner)).toEqual(['a']);
    await leases.release('p/members/a', 'a');
    expect(await leases.list('p/members/')).toEqual([]);
  });

  it('refuses bad arguments', async () => {
    const leases = new InMemoryLeaseStore();
    await expect(leases.acquire('', 'a', 1)).rejects.toThrow(/lease key must be a non-empty string/);
    await expect(leases.acquire('k', '', 1)).rejects.toThrow(/lease owner must be a non-empty string/);
    await expect(leases.acquire('k', 'a', 0)).rejects.toThrow(/positive number of milliseconds, found 0/);
  });

  it('refuses a key, owner or prefix no database could keep apart (NUL, lone surrogate) or a key or owner over MAX_KEY_BYTES, in every method, writing nothing', async () => {
    const leases = new InMemoryLeaseStore();
    for (const [bad, found] of BAD_KEYS) {
      for (const [what, action] of [
        ['lease key', () => leases.acquire(bad, 'a', 1000)],
        ['lease key', () => leases.renew(bad, 'a', 1000)],
        ['lease key', () => leases.release(bad, 'a')],
        ['lease key', () => leases.get(bad)],
        ['lease owner', () => leases.acquire('k', bad, 1000)],
        ['lease owner', () => leases.renew('k', bad, 1000)],
        ['lease owner', () => leases.release('k', bad)],
      ] as const) {
        await expectInvalidKey(action, what, found);
      }
      await expectInvalidKey(() => leases.list(bad), 'lease prefix', found);
    }
    expect(await leases.list(''), 'nothing was written').toEqual([]);
    const longest = 'é'.repeat(MAX_KEY_BYTES / 2);
    expect(await leases.acquire(longest, longest, 1000)).toBe(true);
    expect((await leases.get(longest))?.owner, 'a key and owner of exactly MAX_KEY_BYTES').toBe(longest);
  });
});

describe('InMemoryCheckpointStore', () => {
  it('saves by compare-and-swap on the previous checkpoint', async () => {
    const checkpoints = new InMemoryCheckpointStore();
    expect(await checkpoints.load('p')).toBeUndefined();
    await checkpoints.save('p', 5n, { expected: undefined });
    await checkpoints.save('p', 9n, { expected: 5n });
    await expect(checkpoints.save('p', 12n, { expected: 5n })).rejects.toThrow(
      /checkpoint moved: expected 5, found 9/,
    );
    expect(await checkpoints.load('p')).toBe(9n);
    await expect(checkpoints.save('p', -1n, { expected: 9n })).rejects.toThrow(/bigint >= 0, found -1/);
  });

  it('a lost compare-and-swap throws CheckpointConflict naming the expected and the found position', async () => {
    const checkpoints = new InMemoryCheckpointStore();
    await checkpoints.save('p', 9n, { expected: undefined });
    const error = await checkpoints.save('p', 12n, { expected: 5n, owner: 'a' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CheckpointConflict);
    expect(isCheckpointConflict(error)).toBe(true);
    expect(isLeaseLost(error), 'a plain store has no lease to lose').toBe(false);
    expect(error).toMatchObject({
      code: 'CHECKPOINT_CONFLICT',
      key: 'p',
      owner: 'a',
      expected: 5n,
      found: 9n,
    });
    expect((error as Error).message).toBe(
      'Cannot save checkpoint p for runner a: the checkpoint moved: expected 5, found 9.',
    );
    const none = await checkpoints.save('q', 1n, { expected: 3n }).catch((e: unknown) => e);
    expect((none as Error).message).toBe(
      'Cannot save checkpoint q: the checkpoint moved: expected 3, found none.',
    );
    expect(await checkpoints.load('p')).toBe(9n);
  });

  it('with leases, saves only for the lease holder', async () => {
    const leases = new InMemoryLeaseStore();
    const checkpoints = new InMemoryCheckpointStore({ leases });
    await expect(checkpoints.save('p', 1n, { expected: undefined, owner: 'a' })).rejects.toBeInstanceOf(
      LeaseLost,
    );
    await leases.acquire('p', 'a', 10_000);
    await checkpoints.save('p', 1n, { expected: undefined, owner: 'a' });
    const error = await checkpoints.save('p', 2n, { expected: 1n, owner: 'b' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LeaseLost);
    expect((error as LeaseLost).code).toBe('LEASE_LOST');
    expect((error as Error).message).toMatch(/Runner b no longer owns p: the lease is held by a/);
    expect(await checkpoints.load('p')).toBe(1n);
  });
});

describe('InMemoryDeadLetterStore', () => {
  it('records letters and lists them per projection', async () => {
    const store = new InMemoryDeadLetterStore();
    const letter = {
      projection: 'p',
      key: 'p',
      eventId: 'e1',
      eventType: 'T',
      streamId: 's',
      position: 3n,
      error: 'Error: boom',
      attempts: 2,
      recordedAt: new Date(),
    };
    await store.record(letter);
    await store.record({ ...letter, projection: 'q' });
    expect(await store.list('p')).toEqual([{ ...letter, id: '1' }]);
    expect(await store.list()).toHaveLength(2);
  });

  it('refuses a projection name or key no database could keep apart (NUL, lone surrogate) or over MAX_KEY_BYTES, writing nothing', async () => {
    const store = new InMemoryDeadLetterStore();
    for (const [bad, found] of BAD_KEYS) {
      await expectInvalidKey(
        () => store.record({ ...LETTER, projection: bad }),
        'dead-letter projection',
        found,
      );
      await expectInvalidKey(() => store.record({ ...LETTER, key: bad }), 'dead-letter key', found);
      await expectInvalidKey(() => store.list(bad), 'dead-letter projection', found);
    }
    expect(await store.list(), 'nothing was written').toEqual([]);
  });
});

const LETTER = {
  projection: 'p',
  key: 'p',
  eventId: 'e1',
  eventType: 'T',
  streamId: 's',
  position: 3n,
  error: 'Error: boom',
  attempts: 2,
  recordedAt: new Date(),
};

/** Keys no store accepts, with what the refusal must say it found. */
const BAD_KEYS = [
  ['k\u0000', 'the NUL character'],
  ['k-\ud800', 'a lone surrogate (\\ud800) at index 2'],
  ['k'.repeat(MAX_KEY_BYTES + 1), `${MAX_KEY_BYTES + 1} bytes`],
  [`${'é'.repeat(MAX_KEY_BYTES / 2)}x`, `${MAX_KEY_BYTES + 1} bytes`],
] as const;

/** Asserts `action` fails with InvalidArgument naming the argument, the limit and what it found. */
async function expectInvalidKey(action: () => Promise<unknown>, what: string, found: string): Promise<void> {
  const error = await action().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isAnnalsError(error) && error.code, `${what} with ${found}: the code`).toBe('INVALID_ARGUMENT');
  const message = (error as Error).message;
  expect(message, 'the message names the argument').toContain(what);
  expect(message, 'the message names the limit').toContain(`${MAX_KEY_BYTES} UTF-8 bytes`);
  expect(message, 'the message says what was found').toContain(found);
}
