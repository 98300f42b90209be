import { describe, expect, it } from 'vitest';
import { InMemoryDeadLetterStore } from './dead-letter-store.js';
import { InMemoryCheckpointStore } from './in-memory-checkpoint-store.js';
import { InMemoryLeaseStore } from './in-memory-lease-store.js';
import { LeaseLost } from './projection-errors.js';

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
    expect(await store.list('p')).toEqual([letter]);
    expect(await store.list()).toHaveLength(2);
  });
});
