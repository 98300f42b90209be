import { hasErrorCode, StreamNotFound } from '@annals/core';
import { EVENTS_PER_TRANSACTION, type PostgresEventStore } from '@annals/postgres';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from './support/open-store.js';
import { databaseUrl, dropSchema } from './support/server.js';

const SCHEMA = 'annals_stress_capacity';

describe.skipIf(!databaseUrl)('PostgresEventStore: the events one transaction may append', () => {
  let store: PostgresEventStore;

  beforeAll(async () => {
    await dropSchema(SCHEMA);
    store = await openStore(SCHEMA);
  });

  afterAll(async () => {
    await store?.close();
    await dropSchema(SCHEMA);
  });

  it(`appends over several batches fill the transaction's ${EVENTS_PER_TRANSACTION} positions exactly; one more fails with InvalidArgument and the transaction stores nothing`, async () => {
    const events = sql.id(SCHEMA, 'events');
    let lastFitting: bigint | undefined;
    const error = await store
      .transaction(async (tx) => {
        const first = await store.append(
          'cap-a',
          [
            { type: 'T', data: {} },
            { type: 'T', data: {} },
          ],
          {
            transaction: tx,
          },
        );
        const low = first.firstPosition;
        expect(low % BigInt(EVENTS_PER_TRANSACTION), 'the first append starts its range').toBe(0n);
        // Fill the range up to its last position but one, as earlier batches of this transaction would.
        await sql`insert into ${events} (position, transaction_id, stream_id, revision, id, type, schema_version, data, metadata)
          select ${String(low)}::bigint + n, pg_current_xact_id(), 'cap-filler', n - 2, gen_random_uuid(), 'Filler', 1, '{}', '{}'
          from generate_series(2, ${EVENTS_PER_TRANSACTION - 2}) n`.execute(tx);
        const fitting = await store.append('cap-b', [{ type: 'T', data: {} }], { transaction: tx });
        lastFitting = fitting.firstPosition;
        await store.append('cap-c', [{ type: 'T', data: {} }], { transaction: tx });
      })
      .catch((e: unknown) => e);
    expect(lastFitting, 'the append that takes the last position succeeds').toBeDefined();
    expect(lastFitting! % BigInt(EVENTS_PER_TRANSACTION)).toBe(BigInt(EVENTS_PER_TRANSACTION - 1));
    expect(hasErrorCode(error, 'INVALID_ARGUMENT'), String(error)).toBe(true);
    expect((error as Error).message).toContain(`past ${EVENTS_PER_TRANSACTION} events`);
    for (const streamId of ['cap-a', 'cap-b', 'cap-c']) {
      await expect(
        (async () => {
          for await (const _ of store.readStream(streamId)) void _;
        })(),
        `${streamId} was rolled back`,
      ).rejects.toBeInstanceOf(StreamNotFound);
    }
    // Filling the range writes a million rows in one transaction: a fixed amount of work that takes
    // seconds on a quiet machine and minutes on a loaded one. The bound only catches a hang.
  }, 600_000);
});
