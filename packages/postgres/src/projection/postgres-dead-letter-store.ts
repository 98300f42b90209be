import type { DeadLetter, DeadLetterStore, StoredDeadLetter } from '@annals/core';
import { assertDeadLetter, assertDeadLetterId, assertDeadLetterProjection } from '@annals/core/adapter';
import { type Kysely, sql, type Transaction } from 'kysely';
import type { ProjectionTables } from '../schema/projection-schema.js';
import { assertSchemaName } from '../schema/schema-name.js';
import { annalsDb } from '../schema/schema-scoped-kysely.js';
import type { AnnalsTablesLocation } from '../schema/tables.js';
import { orUnavailable } from '../store/unavailable.js';

/**
 * The {@link DeadLetterStore} on PostgreSQL: the `projection_dead_letters` table (created by
 * `store.migrate()`). A record joins the batch's transaction, so the skipped event's record and the
 * checkpoint that moves past it commit together. A letter's id is its row's `id` (a decimal string).
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

  async list(projection?: string): Promise<readonly StoredDeadLetter[]> {
    return orUnavailable(`listing dead letters`, async () => {
      if (projection !== undefined) assertDeadLetterProjection(projection);
      let query = this.#selectLetters();
      if (projection !== undefined) query = query.where('projection', '=', projection);
      return (await query.execute()).map(toLetter);
    });
  }

  async get(id: string): Promise<StoredDeadLetter | undefined> {
    return orUnavailable(`reading dead letter ${id}`, async () => {
      assertDeadLetterId(id);
      if (!isRowId(id)) return undefined;
      const row = await this.#selectLetters().where('id', '=', id).executeTakeFirst();
      return row === undefined ? undefined : toLetter(row);
    });
  }

  async remove(id: string, options: { readonly transaction?: Transaction<any> } = {}): Promise<boolean> {
    return orUnavailable(`removing dead letter ${id}`, async () => {
      assertDeadLetterId(id);
      if (!isRowId(id)) return false;
      const removed = await this.#db(options.transaction)
        .deleteFrom('projection_dead_letters')
        .where('id', '=', id)
        .returning('id')
        .executeTakeFirst();
      return removed !== undefined;
    });
  }

  #selectLetters() {
    return this.#db(undefined)
      .selectFrom('projection_dead_letters')
      .select([
        sql<string>`id::text`.as('id_text'),
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
  }

  #db(transaction: Transaction<any> | undefined): Kysely<ProjectionTables> {
    const base = transaction ?? this.#location.kysely;
    return annalsDb<ProjectionTables>(base, this.#location.schema);
  }
}

/** A dead-letter row as {@link PostgresDeadLetterStore} selects it. */
interface LetterRow {
  readonly id_text: string;
  readonly projection: string;
  readonly key: string;
  readonly event_id: string;
  readonly event_type: string;
  readonly stream_id: string;
  readonly position_text: string;
  readonly error: string;
  readonly stack: string | null;
  readonly attempts: number;
  readonly recorded_at: Date;
}

function toLetter(row: LetterRow): StoredDeadLetter {
  return Object.freeze({
    id: row.id_text,
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
  });
}

/** Whether `id` can be a row id (a bigint identity): any other id names no letter. */
function isRowId(id: string): boolean {
  return /^[1-9]\d{0,18}$/.test(id) && BigInt(id) <= 9223372036854775807n;
}
