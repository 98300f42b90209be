import { defineProjection, isConcurrencyConflict, type RecordedEvent } from '@annals/core';
import type { PostgresProjectionContext } from '@annals/postgres';
import { toArray } from '@annals/testing';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { databaseUrl, eventually, useTestDatabase } from '../postgres/support/test-database.js';
import { finalLog } from '../support/final-log.js';

const db = useTestDatabase('ordering', { pglite: false });

describe.skipIf(!databaseUrl)('global order under out-of-order commits (server)', () => {
  it('an event committed first by a later transaction stays invisible until the earlier transaction commits; then both read in position order', async () => {
    const store = await db.open('server', { horizonWaitMs: 0 });
    await store.append('before', [{ type: 'Before', data: {} }]);
    // Other sessions on a shared server may hold the horizon: start once the first event is readable.
    expect(await eventually(async () => (await toArray(store.readAll())).length === 1)).toBe(true);
    const subscription = store.subscribeToAll();
    const delivered: RecordedEvent[] = [];
    const delivering = (async () => {
      for await (const event of subscription) delivered.push(event);
    })();

    // Two transactions open at once; A takes its transaction id first, B second.
    const txA = await store.kysely.startTransaction().execute();
    const txB = await store.kysely.startTransaction().execute();
    try {
      const pidA = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(txA)).rows[0]!.pid;
      const a = await store.append('stream-a', [{ type: 'A', data: {} }], { transaction: txA });
      const b = await store.append('stream-b', [{ type: 'B', data: {} }], { transaction: txB });
      expect(a.firstPosition).toBeLessThan(b.firstPosition);

      // B commits first. A reader must not see it yet: A may still commit below it.
      await txB.commit().execute();
      const visible = await toArray(store.readAll());
      expect(visible.map((e) => e.type)).toEqual(['Before']);
      expect(await toArray(store.readStream('stream-b'))).toHaveLength(1); // a stream read needs no horizon

      // The diagnostic names the open transaction that holds readers back.
      const diagnostics = await store.diagnostics();
      const holder = diagnostics.openTransactions.find((t) => t.pid === pidA);
      expect(holder).toMatchObject({ pid: pidA, state: 'idle in transaction' });
      expect(holder?.transactionId).toBe(a.firstPosition >> 20n);
      expect(diagnostics.horizon).toBeLessThanOrEqual(a.firstPosition);
      expect(diagnostics.eventsBehindHorizon).toBeGreaterThanOrEqual(1);
      expect(diagnostics.lastCommittedPosition).toBeGreaterThanOrEqual(b.firstPosition);

      await txA.commit().execute();
      // Other sessions may hold the horizon too: wait for it, then check the order.
      const both = await eventually(async () => (await toArray(store.readAll())).length === 3);
      expect(both).toBe(true);
      const log = await finalLog(store);
      expect(log.map((e) => e.type)).toEqual(['Before', 'A', 'B']);
      expect(log.map((e) => e.position)).toEqual(
        [...log.map((e) => e.position)].sort((x, y) => (x < y ? -1 : 1)),
      );

      // The live subscriber saw A before B, never B first.
      expect(await eventually(async () => delivered.length === 3)).toBe(true);
      expect(delivered.map((e) => e.type)).toEqual(['Before', 'A', 'B']);
    } finally {
      await txA
        .rollback()
        .execute()
        .catch(() => {});
      await txB
        .rollback()
        .execute()
        .catch(() => {});
      await subscription.stop();
      await delivering;
    }
  });

  it("a transaction whose id is older than the stream's last writer cannot append to it (ConcurrencyConflict, nothing written); retried, it lands above that writer", async () => {
    const store = await db.open('server', { horizonWaitMs: 0 });
    await store.append('shared', [{ type: 'First', data: {} }]);
    const tx = await store.kysely.startTransaction().execute();
    try {
      // The transaction takes its id by writing elsewhere; a newer autocommit append then takes 'shared'.
      const early = await store.append('elsewhere', [{ type: 'Early', data: {} }], { transaction: tx });
      const newer = await store.append('shared', [{ type: 'Newer', data: {} }], { expectedRevision: 'any' });
      expect(newer.firstPosition).toBeGreaterThan(early.firstPosition);

      // Placed at the transaction's positions, the next revision would precede revision 1 in the log.
      const error = await store
        .append('shared', [{ type: 'Late', data: {} }], { expectedRevision: 1n, transaction: tx })
        .catch((e: unknown) => e);
      expect(isConcurrencyConflict(error), String(error)).toBe(true);
      expect(error).toMatchObject({ streamId: 'shared', expected: 1n, actual: 1n });
      expect((error as Error).message).toContain('retry the transaction');
      expect((error as { reason?: string }).reason).toContain('retry the transaction');
      // The failed append wrote nothing and left the transaction usable.
      const inTx = await sql<{ n: string }>`select count(*)::text as n from ${sql.id(store.schema, 'events')}
        where stream_id = 'shared'`.execute(tx);
      expect(inTx.rows[0]!.n).toBe('2');
      await tx.commit().execute();
    } finally {
      await tx
        .rollback()
        .execute()
        .catch(() => {});
    }
    const retried = await store.transaction((retry) =>
      store.append('shared', [{ type: 'Late', data: {} }], { expectedRevision: 1n, transaction: retry }),
    );
    expect(retried.nextExpectedRevision).toBe(2n);
    const stream = await toArray(store.readStream('shared'));
    expect(stream.map((e) => e.type)).toEqual(['First', 'Newer', 'Late']);
    for (let i = 1; i < stream.length; i++)
      expect(stream[i]!.position).toBeGreaterThan(stream[i - 1]!.position);
    expect(await toArray(store.readStream('elsewhere'))).toHaveLength(1);
  });

  it('inline projections: appends racing on one stream all succeed (their transactions run again when a newer one wrote first), applied once each, in stream order', async () => {
    const schema = db.schema('server');
    const table = sql.id(schema, 'applied');
    const counter = defineProjection({
      name: 'applied',
      handlers: {
        Raced: async (event, { tx }: PostgresProjectionContext) => {
          await sql`insert into ${table} values (${event.streamId}, ${String(event.revision)}::bigint)`.execute(
            tx,
          );
        },
      },
    });
    const store = await db.open('server', { schema, horizonWaitMs: 0, inlineProjections: [counter] });
    await sql`create table ${table} (stream_id text, revision bigint, primary key (stream_id, revision))`.execute(
      store.kysely,
    );
    const WRITERS = 12;
    const EACH = 6;
    await Promise.all(
      Array.from({ length: WRITERS }, async (_, w) => {
        for (let k = 0; k < EACH; k++) {
          await store.append(`raced-${(w + k) % 2}`, [{ type: 'Raced', data: { w, k } }], {
            expectedRevision: 'any',
          });
        }
      }),
    );
    const log = await finalLog(store);
    expect(log).toHaveLength(WRITERS * EACH);
    const next = new Map<string, bigint>();
    for (const event of log) {
      expect(event.revision, `revision of ${event.streamId} at position ${event.position}`).toBe(
        next.get(event.streamId) ?? 0n,
      );
      next.set(event.streamId, event.revision + 1n);
    }
    const applied = await sql<{ n: string }>`select count(*)::text as n from ${table}`.execute(store.kysely);
    expect(applied.rows[0]!.n).toBe(String(WRITERS * EACH));
  });

  it('a rolled-back append leaves no trace and does not hold readers back', async () => {
    const store = await db.open('server');
    const tx = await store.kysely.startTransaction().execute();
    await store.append('gone', [{ type: 'Gone', data: {} }], { transaction: tx });
    await tx.rollback().execute();
    const after = await store.append('kept', [{ type: 'Kept', data: {} }]);
    const log = await finalLog(store);
    expect(log.map((e) => e.type)).toEqual(['Kept']);
    expect(log[0]?.position).toBe(after.firstPosition);
    await expect(toArray(store.readStream('gone'))).rejects.toMatchObject({ code: 'STREAM_NOT_FOUND' });
  });

  it('several appends in one transaction continue its positions and commit together', async () => {
    const store = await db.open('server');
    const results = await store.transaction(async (tx) => [
      await store.append('x', [{ type: 'T', data: { n: 1 } }], { transaction: tx }),
      await store.append(
        'y',
        [
          { type: 'T', data: { n: 2 } },
          { type: 'T', data: { n: 3 } },
        ],
        { transaction: tx },
      ),
      await store.append('x', [{ type: 'T', data: { n: 4 } }], { transaction: tx, expectedRevision: 0n }),
    ]);
    const positions = results.flatMap((r) => [r.firstPosition, r.lastPosition]);
    expect(positions).toEqual([...positions].sort((a, b) => (a < b ? -1 : 1)));
    // One transaction: one id, consecutive positions.
    expect(new Set(positions.map((p) => p >> 20n)).size).toBe(1);
    expect(results[2]!.lastPosition - results[0]!.firstPosition).toBe(3n);
    const log = await finalLog(store);
    expect(log.map((e) => (e.data as { n: number }).n)).toEqual([1, 2, 3, 4]);
  });
});
