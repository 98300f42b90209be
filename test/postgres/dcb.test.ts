import {
  buildDecisionModel,
  CommandBus,
  type CommandData,
  CommandHandler,
  currentStoreTransaction,
  decisionProjection,
  defineCommand,
  defineEvent,
  type EventQuery,
  EventRegistry,
  type Handles,
  idempotency,
  retryOnConcurrency,
  UpcasterRegistry,
} from '@annals/core';
import { annalsMigrations, PostgresEventStore, PostgresIdempotencyStore } from '@annals/postgres';
import { toArray } from '@annals/testing';
import type { Transaction } from 'kysely';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { waitFor } from '../support/wait-for.js';
import { migrateStoreTo } from './support/migrate-to.js';
import { targets, useTestDatabase } from './support/test-database.js';

const db = useTestDatabase('dcb');

const Joined = defineEvent('Joined', {
  schema: z.object({ member: z.string(), club: z.string() }),
  tags: (d) => [`club:${d.club}`],
});
const Join = defineCommand('Join', z.object({ member: z.string(), club: z.string() }));

/** A club takes at most two members: a decision model over the club's tag, in the command's transaction. */
@CommandHandler(Join)
class JoinHandler implements Handles<typeof Join> {
  constructor(
    private readonly store: PostgresEventStore,
    private readonly beforeAppend: () => Promise<void>,
  ) {}
  async execute(cmd: CommandData<typeof Join>) {
    const members = decisionProjection({
      query: { items: [{ types: ['Joined'], tags: [`club:${cmd.club}`] }] },
      initialState: 0,
      apply: (n) => n + 1,
    });
    const { state, condition } = await buildDecisionModel(this.store, { members });
    if (state.members >= 2) throw new Error(`club ${cmd.club} is full`);
    await this.beforeAppend();
    const transaction = currentStoreTransaction()?.transaction as Transaction<any> | undefined;
    await this.store.append(`member-${cmd.member}`, [Joined.create(cmd)], { condition, transaction });
  }
}

describe.each(targets)('tags and append conditions on PostgreSQL (%s)', (target) => {
  it('a schema holding events from before 0008_event_tags upgrades: old events read with no tags, type queries and conditions see them', async () => {
    const schema = db.schema(target);
    const store = await PostgresEventStore.create(db.connection(target), { schema });
    try {
      expect((await migrateStoreTo(store, '0007_process_timers')).error).toBeUndefined();
      // Written by the 0004 append function, as the previous release did.
      await db.raw(
        target,
        `select * from "${schema}".annals_append('old-1', 'old', 'no_stream', null,
          array[gen_random_uuid(), gen_random_uuid()], array['Old', 'Old'], array[1, 1],
          array['{}'::jsonb, '{}'::jsonb], array['{}'::jsonb, '{}'::jsonb], null)`,
      );
      // Every migration after 0007 runs, in order.
      expect((await store.migrate()).applied).toEqual(
        Object.keys(annalsMigrations(schema))
          .sort()
          .filter((name) => name > '0007_process_timers'),
      );
      const old = await toArray(store.readStream('old-1'));
      expect(old.map((e) => e.tags)).toEqual([[], []]);
      // Written outside the store: readable once no other session's open transaction holds the horizon.
      const byType = () => toArray(store.readAll({ filter: { query: { items: [{ types: ['Old'] }] } } }));
      await waitFor(async () => (await byType()).length >= 2, 'the two old events readable by type');
      expect(await byType()).toHaveLength(2);
      await expect(
        store.append('new-1', [{ type: 'New', data: {}, tags: ['t'] }], {
          condition: { failIfEventsMatch: { items: [{ types: ['Old'] }] } },
        }),
      ).rejects.toMatchObject({ code: 'APPEND_CONDITION_FAILED' });
      await store.append('old-1', [{ type: 'New', data: {}, tags: ['t'] }], {
        expectedRevision: 1n,
        condition: { failIfEventsMatch: { items: [{ types: ['Old'] }] }, after: old[1]!.position },
      });
      expect((await toArray(store.readStream('old-1'))).map((e) => e.tags)).toEqual([[], [], ['t']]);
    } finally {
      await store.close();
    }
  });

  it('0012 replaces the condition check in place: events written before it conflict by every query shape, and the function keeps generic plans', async () => {
    const schema = db.schema(target);
    const store = await PostgresEventStore.create(db.connection(target), { schema });
    try {
      expect((await migrateStoreTo(store, '0011_tenants_and_archive')).error).toBeUndefined();
      // Written by the 0008 function, as the previous release did.
      await db.raw(
        target,
        `select * from "${schema}".annals_append_tagged('old-1', 'old', 'no_stream', null,
          array[gen_random_uuid()], array['Tagged'], array[1], array['{}'::jsonb], array['{}'::jsonb],
          array['{a,b}'], array['a', 'b'], array[1, 1], null, array[]::bigint[], array[]::boolean[], null, -1, null)`,
      );
      expect((await store.migrate()).applied).toContain('0012_indexed_append_condition');
      const all = () => toArray(store.readAll());
      await waitFor(async () => (await all()).length >= 1, 'the old event readable');
      const shapes: [string, EventQuery['items'][number], boolean][] = [
        ['two tags and a type', { types: ['Tagged'], tags: ['a', 'b'] }, true],
        ['two tags', { tags: ['b', 'a'] }, true],
        ['one tag', { tags: ['b'] }, true],
        ['one tag and a type', { types: ['Other', 'Tagged'], tags: ['a'] }, true],
        ['two types', { types: ['Nope', 'Tagged'] }, true],
        ['nothing', {}, true],
        ['two tags, one missing', { tags: ['a', 'c'] }, false],
        ['one tag, another type', { types: ['Nope'], tags: ['a'] }, false],
        ['a type never written', { types: ['Nope'] }, false],
      ];
      for (const [name, item, conflicts] of shapes) {
        const append = store.append(`new-${name}`, [{ type: 'Other', data: {} }], {
          condition: { failIfEventsMatch: { items: [item] } },
        });
        if (conflicts) {
          await expect(append, name).rejects.toMatchObject({ code: 'APPEND_CONDITION_FAILED' });
        } else {
          await expect(append, name).resolves.toMatchObject({ nextExpectedRevision: 0n });
        }
      }
      // A caller of the previous release sends items as objects: still read.
      const oldCaller = (item: string) =>
        db.raw<{ r_conflict: string | null }>(
          target,
          `select r_conflict::text from "${schema}".annals_append_tagged('raw-' || gen_random_uuid(), 'raw', 'any',
            null, array[gen_random_uuid()], array['Other'], array[1], array['{}'::jsonb], array['{}'::jsonb],
            array[null]::text[], array[]::text[], array[]::int4[], null, array[]::bigint[], array[]::boolean[],
            '[${item}]'::jsonb, -1, null)`,
        );
      const [old] = await all();
      expect(await oldCaller('{"types":["Tagged"],"tags":["a","b"]}')).toEqual([
        { r_conflict: String(old!.position) },
      ]);
      expect(await oldCaller('{"tags":["a","c"]}')).toEqual([{ r_conflict: null }]);
      const config = await db.raw(
        target,
        `select p.proconfig from pg_proc p join pg_namespace n on n.oid = p.pronamespace
          where n.nspname = '${schema}' and p.proname = 'annals_append_tagged'`,
      );
      expect(config, 'one annals_append_tagged, planned generically').toEqual([
        { proconfig: ['plan_cache_mode=force_generic_plan', 'enable_seqscan=off'] },
      ]);
    } finally {
      await store.close();
    }
  });

  it('imports keep tags and recordedAt, tags stay through upcasting, and a batch with many tags (every append then waits) is written whole', async () => {
    const V1 = defineEvent('Moved', { version: 2, schema: z.object({ to: z.string(), by: z.string() }) });
    const upcasters = new UpcasterRegistry().register({
      type: 'Moved',
      from: 1,
      to: 2,
      up: (d: { to: string }) => ({ ...d, by: 'n/a' }),
    });
    const events = new EventRegistry({ events: [V1], upcasters });
    const schema = db.schema(target);
    const store = await PostgresEventStore.create(db.connection(target), { schema, events });
    try {
      await store.migrate();
      const when = new Date('2024-01-02T03:04:05.000Z');
      await store.append('m-1', [{ type: 'Moved', schemaVersion: 1, data: { to: 'x' }, tags: ['place:x'] }], {
        import: true,
        recordedAt: [when],
      });
      const [moved] = await toArray(store.readStream('m-1'));
      expect(moved).toMatchObject({
        schemaVersion: 2,
        data: { to: 'x', by: 'n/a' },
        tags: ['place:x'],
        recordedAt: when,
      });
      const many = Array.from({ length: 40 }, (_, i) =>
        V1.create({ to: `${i}`, by: 'me' }, { tags: [`a:${i}`, `b:${i}`] }),
      );
      await store.append('m-2', many);
      const found = await toArray(store.readAll({ filter: { query: { items: [{ tags: ['b:39'] }] } } }));
      expect(found.map((e) => e.streamId)).toEqual(['m-2']);
    } finally {
      await store.close();
    }
  });

  it('a decision model inside a command under PostgresIdempotencyStore reads in the command’s transaction: no wait on PGlite’s one connection, and the condition still sees a commit from outside', async () => {
    const store = await db.open(target, { schema: db.schema(target), events: [Joined] });
    await store.migrate();
    let racer: (() => Promise<void>) | undefined;
    const bus = new CommandBus({
      handlers: [
        new JoinHandler(store, async () => {
          const race = racer;
          racer = undefined;
          await race?.();
        }),
      ],
    })
      // A decision read below a horizon another session holds misses recent members; its condition
      // then fails (nothing is written) and the command runs again, as in an application.
      .use(retryOnConcurrency({ maxAttempts: 100, initialDelayMs: 5, maxDelayMs: 200 }))
      .use(idempotency({ store: new PostgresIdempotencyStore(store) }));
    // Which of these joined: read by stream, which no other session's transaction holds back.
    const joined = async (...members: string[]) => {
      const found: string[] = [];
      for (const member of members) {
        const events = await toArray(store.readStream(`member-${member}`)).catch(() => []);
        if (events.length > 0) found.push(`${member}:${events.length}`);
      }
      return found;
    };

    await bus.execute(Join, { member: 'ann', club: 'a' }, { commandId: 'join-ann' });
    await bus.execute(Join, { member: 'ann', club: 'a' }, { commandId: 'join-ann' });
    await bus.execute(Join, { member: 'ben', club: 'a' }, { commandId: 'join-ben' });
    await expect(bus.execute(Join, { member: 'cy', club: 'a' }, { commandId: 'join-cy' })).rejects.toThrow(
      'club a is full',
    );
    expect(
      await joined('ann', 'ben', 'cy'),
      'a command id run twice joined once; the third was refused',
    ).toEqual(['ann:1', 'ben:1']);

    // On a server, another session joins club b between the command's read and its append.
    if (target === 'server') {
      await store.append('member-dee', [Joined.create({ member: 'dee', club: 'b' })]);
      racer = async () => {
        await store.append('member-out', [Joined.create({ member: 'out', club: 'b' })]);
      };
      // The first attempt decided on one member, its condition saw the outside commit; the retry
      // finds the club full.
      await expect(
        bus.execute(Join, { member: 'eve', club: 'b' }, { commandId: 'join-eve' }),
      ).rejects.toThrow('club b is full');
      expect(racer, 'the outside session joined between the read and the append').toBeUndefined();
      expect(
        await joined('dee', 'out', 'eve'),
        'the decision made before the outside commit wrote nothing',
      ).toEqual(['dee:1', 'out:1']);
    }
    await store.close();
  });

  it('a condition inside a REPEATABLE READ transaction is refused with InvalidArgument (it would not see concurrent commits)', async () => {
    const schema = db.schema(target);
    const store = await PostgresEventStore.create(db.connection(target), { schema });
    try {
      await store.migrate();
      const error = await store
        .transaction(async (tx) => {
          await tx.executeQuery({
            sql: 'set transaction isolation level repeatable read',
            parameters: [],
          } as never);
          await store.append('s', [{ type: 'T', data: {} }], {
            transaction: tx,
            condition: { failIfEventsMatch: { items: [{ tags: ['x'] }] } },
          });
        })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'INVALID_ARGUMENT' });
      expect(String((error as Error).message)).toMatch(/READ COMMITTED/);
      expect(await toArray(store.readAll())).toEqual([]);
    } finally {
      await store.close();
    }
  });
});
