import { isAnnalsError, LeaseLost } from '@annals/core';
import { MAX_KEY_BYTES } from '@annals/core/adapter';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { usePGliteReadModel } from '../../../../test/support/projection-read-model.js';
import { PostgresLeasedCheckpointStore } from '../checkpoint/postgres-leased-checkpoint-store.js';
import { PostgresDeadLetterStore } from './postgres-dead-letter-store.js';
import { PostgresLeaseStore } from './postgres-lease-store.js';

const setup = usePGliteReadModel();

describe('PostgresLeaseStore and PostgresLeasedCheckpointStore (PGlite)', () => {
  it('grants a lease to one owner until it expires or is released', async () => {
    const { store } = await setup();
    const leases = new PostgresLeaseStore(store);
    expect(await leases.acquire('p', 'a', 60_000)).toBe(true);
    expect(await leases.acquire('p', 'b', 60_000)).toBe(false);
    expect(await leases.acquire('p', 'a', 60_000)).toBe(true);
    expect(await leases.renew('p', 'b', 60_000)).toBe(false);
    expect(await leases.renew('p', 'a', 60_000)).toBe(true);
    expect((await leases.get('p'))?.owner).toBe('a');
    await leases.release('p', 'b');
    expect((await leases.get('p'))?.owner).toBe('a');
    await leases.release('p', 'a');
    expect(await leases.get('p')).toBeUndefined();
    expect(await leases.acquire('q', 'a', 30)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(await leases.get('q')).toBeUndefined();
    expect(await leases.acquire('q', 'b', 60_000)).toBe(true);
    await leases.acquire('m/members/y', 'y', 60_000);
    await leases.acquire('m/members/x', 'x', 60_000);
    expect((await leases.list('m/members/')).map((l) => l.owner)).toEqual(['x', 'y']);
    await store.close();
  });

  it('moves a checkpoint only for the lease holder and only from the expected position', async () => {
    const { store, db } = await setup();
    const leases = new PostgresLeaseStore(store);
    const checkpoints = new PostgresLeasedCheckpointStore(store);
    await expect(checkpoints.save('p', 5n, { expected: undefined, owner: 'a' })).rejects.toThrow(
      /holds no lease/,
    );
    await leases.acquire('p', 'a', 60_000);
    await checkpoints.save('p', 5n, { expected: undefined, owner: 'a' });
    await expect(checkpoints.save('p', 6n, { expected: 4n, owner: 'a' })).rejects.toThrow(
      /checkpoint moved: expected 4, found 5/,
    );
    await expect(checkpoints.save('p', 6n, { expected: 5n, owner: 'b' })).rejects.toThrow(
      /lease is held by a/,
    );
    // Inside a transaction, a failed swap leaves the caller's writes to roll back with it.
    await sql`create table ${sql.id(store.schema, 'side')} (n int)`.execute(store.kysely);
    const error = await store
      .transaction(async (tx) => {
        await tx.withSchema(store.schema).insertInto('side').values({ n: 1 }).execute();
        await checkpoints.save('p', 6n, { expected: 5n, owner: 'b', transaction: tx });
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LeaseLost);
    expect(await db.selectFrom('side').selectAll().execute()).toEqual([]);
    expect(await checkpoints.load('p')).toBe(5n);
    await store.close();
  });
});

describe('PostgresLeaseStore and PostgresDeadLetterStore refuse keys they could not keep apart (PGlite)', () => {
  // PostgreSQL keeps text as UTF-8: a lone surrogate would become U+FFFD (two keys stored as one),
  // the NUL character and a key past the btree entry size are raw driver errors.
  it('refuses a lease key, owner or prefix with NUL or a lone surrogate or over MAX_KEY_BYTES, in every method, writing nothing', async () => {
    const { store } = await setup();
    const leases = new PostgresLeaseStore(store);
    for (const [bad, found] of BAD_KEYS) {
      for (const [what, action] of [
        ['lease key', () => leases.acquire(bad, 'a', 60_000)],
        ['lease key', () => leases.renew(bad, 'a', 60_000)],
        ['lease key', () => leases.release(bad, 'a')],
        ['lease key', () => leases.get(bad)],
        ['lease owner', () => leases.acquire('k', bad, 60_000)],
        ['lease owner', () => leases.renew('k', bad, 60_000)],
        ['lease owner', () => leases.release('k', bad)],
        ['lease prefix', () => leases.list(bad)],
      ] as const) {
        await expectInvalidKey(action, what, found);
      }
    }
    expect(await leases.list(''), 'nothing was written').toEqual([]);
    const longest = 'é'.repeat(MAX_KEY_BYTES / 2);
    expect(await leases.acquire(longest, longest, 60_000)).toBe(true);
    expect((await leases.get(longest))?.owner, 'a key and owner of exactly MAX_KEY_BYTES').toBe(longest);
    await store.close();
  });

  it('refuses a dead-letter projection name or key with NUL or a lone surrogate or over MAX_KEY_BYTES, writing nothing', async () => {
    const { store } = await setup();
    const letters = new PostgresDeadLetterStore(store);
    const letter = {
      projection: 'p',
      key: 'p',
      eventId: '0190a3b4-0000-7000-8000-000000000001',
      eventType: 'T',
      streamId: 's',
      position: 3n,
      error: 'Error: boom',
      attempts: 2,
      recordedAt: new Date(),
    };
    for (const [bad, found] of BAD_KEYS) {
      await expectInvalidKey(
        () => letters.record({ ...letter, projection: bad }),
        'dead-letter projection',
        found,
      );
      await expectInvalidKey(() => letters.record({ ...letter, key: bad }), 'dead-letter key', found);
      await expectInvalidKey(() => letters.list(bad), 'dead-letter projection', found);
    }
    expect(await letters.list(), 'nothing was written').toEqual([]);
    const longest = 'é'.repeat(MAX_KEY_BYTES / 2);
    await letters.record({ ...letter, projection: longest, key: longest });
    expect((await letters.list(longest)).map((l) => l.key)).toEqual([longest]);
    await store.close();
  });
});

/** Keys no store accepts, with what the refusal must say it found. */
const BAD_KEYS = [
  ['k\u0000', 'the NUL character'],
  ['k-\ud800', 'a lone surrogate (\\ud800) at index 2'],
  ['k'.repeat(MAX_KEY_BYTES + 1), `${MAX_KEY_BYTES + 1} bytes`],
  ['k'.repeat(3000), '3000 bytes'],
] as const;

/** Asserts `action` fails with InvalidArgument naming the argument, the limit and what it found. */
async function expectInvalidKey(action: () => Promise<unknown>, what: string, found: string): Promise<void> {
  const error = await action().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isAnnalsError(error) && error.code, `${what} with ${found}: the code (found ${String(error)})`).toBe(
    'INVALID_ARGUMENT',
  );
  const message = (error as Error).message;
  expect(message, 'the message names the argument').toContain(what);
  expect(message, 'the message names the limit').toContain(`${MAX_KEY_BYTES} UTF-8 bytes`);
  expect(message, 'the message says what was found').toContain(found);
}
