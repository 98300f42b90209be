import { qualified, withRaw } from './server.js';

/**
 * Direct reads of the store's tables, past the store's own read path and its horizon: the ground
 * truth of what a failed append left behind.
 */
export async function storedEventIds(schema: string, ids: readonly string[]): Promise<string[]> {
  return withRaw(async (client) => {
    const { rows } = await client.query<{ id: string }>(
      `SELECT id::text AS id FROM ${qualified(schema, 'events')} WHERE id = ANY($1::uuid[])`,
      [ids],
    );
    return rows.map((r) => r.id);
  });
}

/** The revision the streams table holds for `streamId`, or undefined when it has no row. */
export async function storedStreamRevision(schema: string, streamId: string): Promise<bigint | undefined> {
  return withRaw(async (client) => {
    const { rows } = await client.query<{ revision: string }>(
      `SELECT revision::text AS revision FROM ${qualified(schema, 'streams')} WHERE stream_id = $1`,
      [streamId],
    );
    return rows[0] === undefined ? undefined : BigInt(rows[0].revision);
  });
}

/** How many event rows the events table holds for `streamId`. */
export async function storedEventCount(schema: string, streamId: string): Promise<number> {
  return withRaw(async (client) => {
    const { rows } = await client.query<{ n: string }>(
      `SELECT count(*)::text AS n FROM ${qualified(schema, 'events')} WHERE stream_id = $1`,
      [streamId],
    );
    return Number(rows[0]!.n);
  });
}
