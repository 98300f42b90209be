import type { DeadLetter, DeadLetterStore } from '@annals/core';
import { assertDeadLetter, assertDeadLetterProjection } from '@annals/core/adapter';
import { type Kysely, sql, type Transaction } from 'kysely';
import type { ProjectionTables } from '../schema/projection-schema.js';
import { assertSchemaName } from '../schema/schema-name.js';
import { annalsDb } from '../schema/schema-scoped-kysely.js';
import type { AnnalsTablesLocation } from '../schema/tables.js';
import { orUnavailable } from '../store/unavailable.js';

/**
 * The {@link DeadLetterStore} on PostgreSQL: the `projection_dead_letters` table (created by
 * `store.migrate()`). A record joins the batch's transaction, so the skipped event's record and the
 * checkpoint that moves past it commit together.
 */
export class PostgresDeadLetterStore implements DeadLetterStore<Transaction<any>> {
  readonly #location: AnnalsTablesLocation;

  constructor(location: AnnalsTablesLocation) {
    assertSchemaName(location?.schema);
    this.#location = location;
  }

  async record(letter: DeadLetter, options: { readonly transaction?: Transaction<any> } = {}): Promise<void> {
    return orUnavailable(`recording a dead letter of ${letter.projection}`, async () => {
      assertDeadLetter(letter);
      await this.#db(options.transaction)
        .insertInto('projection_dead_letters')
        .values({
          projection: letter.projection,
          key: letter.key,
          event_id: letter.eventId,
          event_type: letter.eventType,
          stream_id: letter.streamId,
          position: letter.position.toString(),
          error: letter.error,
          stack: letter.stack ?? null,
          attempts: letter.attempts,
          recorded_at: letter.recordedAt,
        } as never)
        .execute();
    });
  }

  async list(projection?: string): Promise<readonly DeadLetter[]> {
    return orUnavailable(`listing dead letters`, async () => {
      if (projection !== undefined) assertDeadLetterProjection(projection);
      let query = this.#db(undefined)
        .selectFrom('projection_dead_letters')
        .select([
          'projection',
          'key',
          'event_id',
          'event_type',
          'stream_id',
          sql<string>`position::text`.as('position_text'),
          'error',
          'stack',
          'attempts',
          'recorded_at',
        ])
        .orderBy('id');
      if (projection !== undefined) query = query.where('projection', '=', projection);
      const rows = await query.execute();
      return rows.map((row) =>
        Object.freeze({
          projection: row.projection,
          key: row.key,
          eventId: row.event_id,
          eventType: row.event_type,
          streamId: row.stream_id,
          position: BigInt(row.position_text),
          error: row.error,
          ...(row.stack === null ? {} : { stack: row.stack }),
          attempts: row.attempts,
          recordedAt: new Date(row.recorded_at),
        }),
      );
    });
  }

  #db(transaction: Transaction<any> | undefined): Kysely<ProjectionTables> {
    const base = transaction ?? this.#location.kysely;
    return annalsDb<ProjectionTables>(base, this.#location.schema);
  }
}
