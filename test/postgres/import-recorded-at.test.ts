import { toArray } from '@annals/testing';
import { describe, expect, it } from 'vitest';
import { targets, useTestDatabase } from './support/test-database.js';

const db = useTestDatabase('import_time');

// An import that keeps recordedAt runs its own statement (the append function takes no timestamps):
// inside a transaction too, where its events keep their order after the transaction's other appends
// and reach subscribers once it commits.
describe.each(targets)('an import keeping recordedAt (%s)', (target) => {
  it('inside store.transaction and inside a Kysely transaction of the caller, after other appends of it', async () => {
    const store = await db.open(target);
    const at = (n: number) => new Date(Date.UTC(2022, 0, n, 12, 0, 0, n));
    const live = store.subscribeToAll({ filter: { streamPrefix: 'copied-' } });
    const seen: string[] = [];
    const reading = (async () => {
      for await (const e of live) {
        seen.push(`${e.streamId}@${e.revision}`);
        if (seen.length === 4) break;
      }
    })();
    await store.transaction(async (tx) => {
      await store.append('copied-1', [{ type: 'T', data: { n: 0 } }], { transaction: tx });
      await store.append(
        'copied-1',
        [
          { type: 'T', data: { n: 1 } },
          { type: 'T', data: { n: 2 } },
        ],
        {
          import: true,
          recordedAt: [at(1), at(2)],
          expectedRevision: 0n,
          transaction: tx,
        },
      );
    });
    await store.kysely.transaction().execute(async (tx) => {
      await store.append('copied-2', [{ type: 'T', data: { n: 3 } }], {
        import: true,
        recordedAt: [at(3)],
        expectedRevision: 'no_stream',
        transaction: tx,
      });
    });
    // The subscription ends once it saw all four: then they are below the horizon (another session's
    // open transaction may hold it back a while; appends in a caller's transaction are not waited for).
    await reading;
    expect(seen).toEqual(['copied-1@0', 'copied-1@1', 'copied-1@2', 'copied-2@0']);
    const events = await toArray(store.readAll({ filter: { streamPrefix: 'copied-' } }));
    expect(events.map((e) => [e.streamId, e.revision, e.data])).toEqual([
      ['copied-1', 0n, { n: 0 }],
      ['copied-1', 1n, { n: 1 }],
      ['copied-1', 2n, { n: 2 }],
      ['copied-2', 0n, { n: 3 }],
    ]);
    expect(events.slice(1).map((e) => e.recordedAt.toISOString())).toEqual(
      [1, 2, 3].map((n) => at(n).toISOString()),
    );
    expect(events[1]!.position, 'after the append before it in the transaction').toBeGreaterThan(
      events[0]!.position,
    );
  });
});
