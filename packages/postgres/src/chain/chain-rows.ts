import { type Kysely, sql } from 'kysely';
import { belowHorizonOf } from '../store/event-rows.js';
import type { ChainedEventRow } from './chain-hash.js';

// Output columns carry the names of the table's, as text: ORDER BY names the table's column
// (qualified), or it would sort the text.

/** A row of `event_chain`, hashes in hex, bigints as text. */
export interface ChainRow {
  readonly position: string;
  readonly previous_position: string | null;
  readonly stream_id: string;
  readonly revision: string;
  readonly hash: string;
}

/** A row of `event_chain_checkpoints`, hash and signature in hex. */
export interface CheckpointRow {
  readonly position: string;
  readonly hash: string;
  readonly key_id: string;
  readonly signature: string;
  readonly signed_at: Date | string;
}

/**
 * Up to `limit` events after `after`, in position order, as the chain hashes them. With
 * `belowHorizon`, only events no running transaction can still precede (what sealing may chain).
 */
export async function readEventsAfter(
  db: Kysely<any>,
  schema: string,
  after: bigint,
  limit: number,
  belowHorizon: boolean,
): Promise<ChainedEventRow[]> {
  const horizon = belowHorizon ? sql`and ${belowHorizonOf(sql.ref('e.position'))}` : sql``;
  // The chain covers the whole log: the hot part and what was archived (moved, not changed).
  const part = (table: string) => sql`select position, stream_id, revision, id, type, schema_version,
      recorded_at, data, metadata, tags
    from ${sql.id(schema, table)} where position > ${String(after)}::bigint`;
  const result = await sql<ChainedEventRow>`select position::text as position, stream_id,
      revision::text as revision, id::text as id, type, schema_version::text as schema_version,
      (extract(epoch from recorded_at) * 1000000)::bigint::text as recorded_us,
      data::text as data, metadata::text as metadata, coalesce(tags::text, '') as tags
    from (${part('events')} union all ${part('events_archive')}) e
    where true ${horizon}
    order by e.position limit ${limit}`.execute(db);
  return result.rows;
}

/** The chain rows with `after < position <= upTo` (no upper bound when `upTo` is undefined), in order. */
export async function readChainRows(
  db: Kysely<any>,
  schema: string,
  after: bigint,
  upTo: bigint | undefined,
): Promise<ChainRow[]> {
  const upper = upTo === undefined ? sql`` : sql`and c.position <= ${String(upTo)}::bigint`;
  const result = await sql<ChainRow>`select position::text as position,
      previous_position::text as previous_position, stream_id, revision::text as revision,
      encode(hash, 'hex') as hash
    from ${sql.id(schema, 'event_chain')} c
    where c.position > ${String(after)}::bigint ${upper}
    order by c.position`.execute(db);
  return result.rows;
}

/** The last chain row (the chain's head), or undefined when nothing is sealed. */
export async function readChainHead(db: Kysely<any>, schema: string): Promise<ChainRow | undefined> {
  const result = await sql<ChainRow>`select position::text as position,
      previous_position::text as previous_position, stream_id, revision::text as revision,
      encode(hash, 'hex') as hash
    from ${sql.id(schema, 'event_chain')} c order by c.position desc limit 1`.execute(db);
  return result.rows[0];
}

/** Inserts chain rows in one statement (one JSON parameter: the same on node-postgres and PGlite). */
export async function insertChainRows(
  db: Kysely<any>,
  schema: string,
  rows: readonly ChainRow[],
): Promise<void> {
  if (rows.length === 0) return;
  await sql`insert into ${sql.id(schema, 'event_chain')}
      (position, previous_position, stream_id, revision, hash)
    select r.position::bigint, r.previous_position::bigint, r.stream_id, r.revision::bigint,
      decode(r.hash, 'hex')
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
      as r(position text, previous_position text, stream_id text, revision text, hash text)`.execute(db);
}

/** Serialises the sealers of one schema for the rest of the transaction. */
export async function lockChain(db: Kysely<any>, schema: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext(${`${schema}.event_chain`}))`.execute(db);
}

/** Every stored checkpoint, in position order. */
export async function readCheckpointRows(db: Kysely<any>, schema: string): Promise<CheckpointRow[]> {
  const result = await sql<CheckpointRow>`select position::text as position,
      encode(hash, 'hex') as hash, key_id, encode(signature, 'hex') as signature, signed_at
    from ${sql.id(schema, 'event_chain_checkpoints')} k order by k.position`.execute(db);
  return result.rows;
}

/** Stores a checkpoint; one already stored at that position is kept. Returns the stored row. */
export async function insertCheckpoint(
  db: Kysely<any>,
  schema: string,
  row: Omit<CheckpointRow, 'signed_at'>,
): Promise<CheckpointRow> {
  const table = sql.id(schema, 'event_chain_checkpoints');
  await sql`insert into ${table} (position, hash, key_id, signature)
    values (${row.position}::bigint, decode(${row.hash}, 'hex'), ${row.key_id},
      decode(${row.signature}, 'hex'))
    on conflict (position) do nothing`.execute(db);
  const result = await sql<CheckpointRow>`select position::text as position,
      encode(hash, 'hex') as hash, key_id, encode(signature, 'hex') as signature, signed_at
    from ${table} where position = ${row.position}::bigint`.execute(db);
  return result.rows[0]!;
}
