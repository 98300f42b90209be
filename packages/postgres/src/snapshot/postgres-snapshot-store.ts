import { assertSnapshot, InvalidArgument, type Snapshot, type SnapshotStore } from '@annals/core';
import { assertStreamId, containsNul } from '@annals/core/adapter';
import { type Kysely, sql } from 'kysely';
import { assertSchemaName } from '../schema/schema-name.js';
import type { AnnalsTables, AnnalsTablesLocation } from '../schema/tables.js';
import { orUnavailable } from '../store/unavailable.js';
import { parseState, stringifyState } from './snapshot-json.js';

/**
 * The {@link SnapshotStore} on PostgreSQL: the last snapshot of each stream in the `snapshots` table
 * of the store's schema (jsonb state; bigint and Date values survive the round trip). A save never
 * replaces a snapshot of a later revision, so a slow writer cannot move a stream's snapshot back.
 *
 * @example
 * ```ts
 * const accounts = new Repository(BankAccount, { store, snapshots: { store: new PostgresSnapshotStore(store), every: 100 } });
 * ```
 */
export class PostgresSnapshotStore implements SnapshotStore {
  readonly #location: AnnalsTablesLocation;

  constructor(location: AnnalsTablesLocation) {
    assertSchemaName(location?.schema);
    this.#location = location;
  }

  async load(streamId: string): Promise<Snapshot | undefined> {
    assertStreamId(streamId);
    const row = await orUnavailable(`loading the snapshot of ${streamId}`, () =>
      this.#db()
        .selectFrom('snapshots')
        .select([
          'stream_id',
          'aggregate_type',
          'snapshot_version',
          sql<string>`revision::text`.as('revision'),
          sql<string>`state::text`.as('state'),
          'taken_at',
        ])
        .where('stream_id', '=', streamId)
        .executeTakeFirst(),
    );
    if (row === undefined) return undefined;
    return {
      streamId: row.stream_id,
      aggregateType: row.aggregate_type,
      snapshotVersion: row.snapshot_version,
      revision: BigInt(row.revision),
      state: parseState(row.state),
      takenAt: row.taken_at instanceof Date ? row.taken_at : new Date(row.taken_at),
    };
  }

  async save(snapshot: Snapshot): Promise<void> {
    assertSnapshot(snapshot);
    const { streamId } = snapshot;
    if (typeof snapshot.aggregateType !== 'string' || !Number.isInteger(snapshot.snapshotVersion)) {
      throw new InvalidArgument(
        `The snapshot of ${streamId} needs a string aggregateType and an integer snapshotVersion, found ${JSON.stringify(snapshot.aggregateType)} and ${String(snapshot.snapshotVersion)}.`,
      );
    }
    const takenAt = snapshot.takenAt instanceof Date ? snapshot.takenAt : new Date();
    const state = stringifyState(streamId, snapshot.state);
    if (containsNul(state)) {
      throw new InvalidArgument(
        `The snapshot state of ${streamId} contains the NUL character (\\u0000), which PostgreSQL jsonb cannot store.`,
      );
    }
    const row = {
      stream_id: streamId,
      aggregate_type: snapshot.aggregateType,
      snapshot_version: snapshot.snapshotVersion,
      revision: snapshot.revision.toString(),
      state: sql`${state}::jsonb`,
      taken_at: takenAt,
    };
    await orUnavailable(`saving the snapshot of ${streamId}`, () =>
      this.#db()
        .insertInto('snapshots')
        .values(row)
        .onConflict((c) =>
          c
            .column('stream_id')
            .doUpdateSet({
              aggregate_type: (eb) => eb.ref('excluded.aggregate_type'),
              snapshot_version: (eb) => eb.ref('excluded.snapshot_version'),
              revision: (eb) => eb.ref('excluded.revision'),
              state: sql`excluded.state`,
              taken_at: (eb) => eb.ref('excluded.taken_at'),
            })
            .where(sql<boolean>`snapshots.revision <= excluded.revision`),
        )
        .execute(),
    );
  }

  /** Removes the snapshot of `streamId` (loads then replay the whole stream). */
  async delete(streamId: string): Promise<void> {
    assertStreamId(streamId);
    await orUnavailable(`deleting the snapshot of ${streamId}`, () =>
      this.#db().deleteFrom('snapshots').where('stream_id', '=', streamId).execute(),
    );
  }

  #db(): Kysely<AnnalsTables> {
    return this.#location.kysely
      .withoutPlugins()
      .withSchema(this.#location.schema) as unknown as Kysely<AnnalsTables>;
  }
}
