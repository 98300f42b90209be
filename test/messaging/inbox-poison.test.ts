import { hasErrorCode, InvalidArgument } from '@annals/core';
import { PostgresInbox, StoreUnavailable } from '@annals/postgres';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { targets, useTestDatabase } from '../postgres/support/test-database.js';

const db = useTestDatabase('inboxpoison');

/** Effects that throw `error` every time, counting their runs. */
function poisonous(error: Error) {
  let runs = 0;
  return {
    get runs() {
      return runs;
    },
    effects: async () => {
      runs++;
      throw error;
    },
  };
}

class RefusedPayload extends Error {
  readonly code = 'REFUSED_PAYLOAD';
  override name = 'RefusedPayload';
}

describe.each(targets)('PostgresInbox with maxAttempts: poison messages (%s)', (target) => {
  it('a message whose effects keep failing is rethrown until maxAttempts, then given up on as a dead letter and skipped', async () => {
    const store = await db.open(target);
    const inbox = new PostgresInbox(store, { consumer: 'mailer', maxAttempts: 3 });
    const poison = poisonous(new RefusedPayload('the payload has no recipient'));
    await expect(inbox.handle('m-1', poison.effects), 'attempt 1 rethrows').rejects.toThrow('no recipient');
    await expect(inbox.handle('m-1', poison.effects), 'attempt 2 rethrows').rejects.toThrow('no recipient');
    expect(await inbox.deadLetters(), 'not a dead letter before the last attempt').toEqual([]);
    expect(await inbox.handled('m-1')).toBe(false);

    expect(await inbox.handle('m-1', poison.effects), 'attempt 3 gives up: resolves false').toBe(false);
    const [letter, ...others] = await inbox.deadLetters();
    expect(others).toEqual([]);
    expect(letter).toMatchObject({
      messageId: 'm-1',
      attempts: 3,
      error: 'RefusedPayload [REFUSED_PAYLOAD]: the payload has no recipient',
    });
    expect(letter!.firstFailedAt.getTime()).toBeLessThanOrEqual(letter!.lastFailedAt.getTime());
    expect(letter!.deadLetteredAt.getTime()).toBeGreaterThanOrEqual(letter!.lastFailedAt.getTime());

    expect(await inbox.handle('m-1', poison.effects), 'a later delivery is skipped').toBe(false);
    expect(poison.runs, 'the effects ran three times, not four').toBe(3);
    expect(await inbox.handled('m-1')).toBe(true);
  });

  it('a message that fails, then succeeds, is handled and no dead letter; prune removes its count with the window', async () => {
    const store = await db.open(target);
    const inbox = new PostgresInbox(store, { consumer: 'mailer', maxAttempts: 2 });
    await expect(inbox.handle('m-1', poisonous(new Error('flaky')).effects)).rejects.toThrow('flaky');
    const applied: string[] = [];
    expect(await inbox.handle('m-1', async () => void applied.push('m-1'))).toBe(true);
    expect(applied).toEqual(['m-1']);
    expect(await inbox.deadLetters()).toEqual([]);
    const failures = async () =>
      (await sql`select message_id from ${sql.id(store.schema, 'inbox_failures')}`.execute(store.kysely))
        .rows;
    expect(await failures(), 'the count stays until prune').toHaveLength(1);
    expect(await inbox.prune({ olderThanMs: 3_600_000 }), 'nothing is an hour old').toBe(0);
    expect(await failures()).toHaveLength(1);
    await sql`update ${sql.id(store.schema, 'inbox_failures')} set last_failed_at = now() - interval '2 hours'`.execute(
      store.kysely,
    );
    await inbox.prune({ olderThanMs: 3_600_000 });
    expect(await failures(), 'pruned with the window').toEqual([]);
  });

  it('prune keeps dead letters, whatever their age', async () => {
    const store = await db.open(target);
    const inbox = new PostgresInbox(store, { consumer: 'mailer', maxAttempts: 1 });
    expect(await inbox.handle('m-1', poisonous(new Error('bug')).effects)).toBe(false);
    await sql`update ${sql.id(store.schema, 'inbox_failures')} set last_failed_at = now() - interval '2 hours'`.execute(
      store.kysely,
    );
    await inbox.prune({ olderThanMs: 3_600_000 });
    expect((await inbox.deadLetters()).map((l) => l.messageId)).toEqual(['m-1']);
  });

  it('release: the next delivery of a dead letter runs its effects again, with a fresh count', async () => {
    const store = await db.open(target);
    const inbox = new PostgresInbox(store, { consumer: 'mailer', maxAttempts: 1 });
    const poison = poisonous(new Error('bug in the handler'));
    expect(await inbox.handle('m-1', poison.effects)).toBe(false);
    expect((await inbox.deadLetters()).map((l) => [l.messageId, l.attempts])).toEqual([['m-1', 1]]);

    expect(await inbox.release('m-1')).toBe(true);
    expect(await inbox.release('m-1'), 'nothing left to release').toBe(false);
    expect(await inbox.deadLetters()).toEqual([]);
    const applied: string[] = [];
    expect(await inbox.handle('m-1', async () => void applied.push('fixed'))).toBe(true);
    expect(applied).toEqual(['fixed']);
  });

  it('dead letters are per consumer; without maxAttempts every failure is rethrown and nothing is counted', async () => {
    const store = await db.open(target);
    const counted = new PostgresInbox(store, { consumer: 'mailer', maxAttempts: 1 });
    const plain = new PostgresInbox(store, { consumer: 'audit' });
    expect(await counted.handle('m-1', poisonous(new Error('x')).effects)).toBe(false);
    for (let attempt = 1; attempt <= 3; attempt++) {
      await expect(plain.handle('m-1', poisonous(new Error('y')).effects)).rejects.toThrow('y');
    }
    expect(await plain.deadLetters()).toEqual([]);
    expect(await plain.handled('m-1')).toBe(false);
    const { rows } = await sql<{ consumer: string }>`
      select consumer from ${sql.id(store.schema, 'inbox_failures')}`.execute(store.kysely);
    expect(rows.map((r) => r.consumer)).toEqual(['mailer']);
  });

  it('a lost connection met by the effects is rethrown and not counted against the message', async () => {
    const store = await db.open(target);
    const inbox = new PostgresInbox(store, { consumer: 'mailer', maxAttempts: 1 });
    const lost = new Error('Connection terminated unexpectedly');
    const outage = poisonous(new StoreUnavailable('a read of stream account-1', lost));
    await expect(inbox.handle('m-1', outage.effects)).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    await expect(inbox.handle('m-1', poisonous(lost).effects)).rejects.toThrow('Connection terminated');
    expect(await inbox.deadLetters(), 'an outage makes no dead letter').toEqual([]);
    const applied: string[] = [];
    expect(await inbox.handle('m-1', async () => void applied.push('m-1'))).toBe(true);
    expect(applied).toEqual(['m-1']);
  });

  it('a maxAttempts that is not a whole number of at least 1 is refused with InvalidArgument', async () => {
    const store = await db.open(target);
    for (const maxAttempts of [0, -1, 1.5, Number.NaN, '3']) {
      let error: unknown;
      try {
        new PostgresInbox(store, { consumer: 'mailer', maxAttempts: maxAttempts as number });
      } catch (e) {
        error = e;
      }
      expect(error, `maxAttempts ${String(maxAttempts)}`).toBeInstanceOf(InvalidArgument);
      expect(hasErrorCode(error, 'INVALID_ARGUMENT')).toBe(true);
      expect(String((error as Error).message)).toContain(`found ${String(maxAttempts)}`);
    }
  });
});
