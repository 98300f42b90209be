import {
  hasErrorCode,
  InvalidArgument,
  isAnnalsError,
  isUuid,
  type RecordedEvent,
  StreamNotFound,
} from '@annals/core';
import { type AnnalsTables, PostgresEventStore } from '@annals/postgres';
import { type Kysely, sql } from 'kysely';
import { type EventView, eventView } from './json.js';

/** A stream as the stream list shows it. */
export interface StreamSummary {
  readonly streamId: string;
  /** Revision of its last event. */
  readonly revision: string;
  readonly updatedAt: string;
}

/**
 * Reads events as stored, through a second store on the application store's connection that has no
 * definitions, and decodes each with the application store's registry to show the version read.
 */
export class EventReader {
  readonly #app: PostgresEventStore;
  readonly #raw: PostgresEventStore;

  private constructor(app: PostgresEventStore, raw: PostgresEventStore) {
    this.#app = app;
    this.#raw = raw;
  }

  /** Opens the as-stored store on `app`'s Kysely instance (which it never closes). */
  static async open(app: PostgresEventStore): Promise<EventReader> {
    const raw = await PostgresEventStore.create(
      { kysely: app.kysely },
      { schema: app.schema, maxEventBytes: app.capabilities.maxEventBytes, polling: { maxMs: 250 } },
    );
    return new EventReader(app, raw);
  }

  /** The store that reads events as stored (for the live log). */
  get raw(): PostgresEventStore {
    return this.#raw;
  }

  /** Both views of a stored event. */
  view(stored: RecordedEvent): EventView {
    const registry = this.#app.registry;
    if (registry.definitions().length === 0) return eventView(stored, undefined);
    try {
      const target = registry.upcastTarget(stored.type, stored.schemaVersion);
      if (registry.definition(target.type) === undefined) return eventView(stored, undefined);
      const read = registry.decode(stored);
      return eventView(stored, { type: read.type, schemaVersion: read.schemaVersion, data: read.data });
    } catch (error) {
      return eventView(stored, {
        error: {
          code: isAnnalsError(error) ? error.code : 'ERROR',
          message: error instanceof Error ? error.message : String(error),
        },
      });
    }
  }

  /** Streams whose id starts with `prefix`, by id, after `after` (exclusive), at most `limit`. */
  async streams(prefix: string, after: string | undefined, limit: number): Promise<StreamSummary[]> {
    let query = this.#db()
      .selectFrom('streams')
      .select(['stream_id', sql<string>`revision::text`.as('revision_text'), 'updated_at'])
      .where(sql<boolean>`starts_with(stream_id, ${prefix}::text)`)
      .orderBy('stream_id')
      .limit(limit);
    if (after !== undefined) query = query.where('stream_id', '>', after);
    const rows = await query.execute();
    return rows.map((r) => ({
      streamId: r.stream_id,
      revision: r.revision_text,
      updatedAt: new Date(r.updated_at).toISOString(),
    }));
  }

  /**
   * A page of a stream's events from revision `from`, at most `limit`, and the stream's last
   * revision. `StreamNotFound` when the stream does not exist.
   */
  async page(
    streamId: string,
    from: bigint,
    limit: number,
  ): Promise<{ events: EventView[]; lastRevision: string }> {
    const row = await this.#db()
      .selectFrom('streams')
      .select(sql<string>`revision::text`.as('revision_text'))
      .where('stream_id', '=', streamId)
      .executeTakeFirst();
    if (row === undefined) throw new StreamNotFound(streamId);
    const events: EventView[] = [];
    if (from <= BigInt(row.revision_text)) {
      for await (const stored of this.#raw.readStream(streamId, { fromRevision: from, maxCount: limit })) {
        events.push(this.view(stored));
      }
    }
    return { events, lastRevision: row.revision_text };
  }

  /** The event with id `eventId`, or `InvalidArgument` when the log has none. */
  async event(eventId: string): Promise<EventView> {
    if (!isUuid(eventId))
      throw new InvalidArgument(`An event id is a UUID, found ${JSON.stringify(eventId)}.`);
    const row = await this.#db()
      .selectFrom('events')
      .select(['stream_id', sql<string>`revision::text`.as('revision_text')])
      .where('id', '=', eventId)
      .executeTakeFirst();
    if (row === undefined) throw new InvalidArgument(`The log has no event with id ${eventId}.`);
    try {
      for await (const stored of this.#raw.readStream(row.stream_id, {
        fromRevision: BigInt(row.revision_text),
        maxCount: 1,
      })) {
        return this.view(stored);
      }
    } catch (error) {
      if (!hasErrorCode(error, 'STREAM_NOT_FOUND')) throw error;
    }
    throw new InvalidArgument(`The log has no event with id ${eventId}.`);
  }

  /** The highest position readers can see now (-1 when the log is empty). */
  async head(): Promise<bigint> {
    return (await this.#raw.diagnostics()).lastVisiblePosition ?? -1n;
  }

  /** Closes the as-stored store (not the connection, which is the application's). */
  async close(): Promise<void> {
    await this.#raw.close({ drainTimeoutMs: 0 });
  }

  #db(): Kysely<AnnalsTables> {
    return this.#app.kysely.withoutPlugins().withSchema(this.#app.schema) as Kysely<AnnalsTables>;
  }
}
