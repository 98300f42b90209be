import { type DeadLetter, InvalidArgument, type RecordedEvent } from '@annals/core';
import { PostgresDeadLetterStore, type PostgresEventStore, type ProjectionTables } from '@annals/postgres';
import type { Kysely, Transaction } from 'kysely';

/**
 * The dead letters of `eventId` (optionally of one projection). `DeadLetterStore` lists letters by
 * projection only, so this filters its list.
 */
export async function lettersOf(
  store: PostgresEventStore,
  eventId: string,
  projection: string | undefined,
): Promise<DeadLetter[]> {
  const letters = await new PostgresDeadLetterStore(store).list(projection);
  const found = letters.filter((l) => l.eventId === eventId);
  if (found.length === 0) {
    throw new InvalidArgument(
      `No dead letter for event ${eventId}${projection === undefined ? '' : ` of projection ${projection}`}; annals dead-letters list shows them.`,
    );
  }
  return found;
}

/** The one dead letter of `eventId`, or `INVALID_ARGUMENT` asking for `--projection` when several projections skipped it. */
export async function letterOf(
  store: PostgresEventStore,
  eventId: string,
  projection: string | undefined,
): Promise<DeadLetter> {
  const found = await lettersOf(store, eventId, projection);
  if (found.length > 1) {
    throw new InvalidArgument(
      `Event ${eventId} was skipped by ${found.map((l) => l.key).join(', ')}; name one with --projection.`,
    );
  }
  return found[0]!;
}

/**
 * Deletes the dead letter of (key, event id), inside `transaction` when given. The dead-letter store
 * has no removal, so this deletes the row of its documented table (`projection_dead_letters`).
 */
export async function deleteLetter(
  store: PostgresEventStore,
  letter: DeadLetter,
  transaction?: Transaction<any>,
): Promise<void> {
  const base = (transaction ?? store.kysely).withoutPlugins();
  await (base.withSchema(store.schema) as Kysely<ProjectionTables>)
    .deleteFrom('projection_dead_letters')
    .where('key', '=', letter.key)
    .where('event_id', '=', letter.eventId)
    .execute();
}

/** The event a dead letter names, read from its stream at its position (as the store reads it). */
export async function eventOf(store: PostgresEventStore, letter: DeadLetter): Promise<RecordedEvent> {
  for await (const event of store.readAll({ fromPosition: letter.position, maxCount: 1 })) {
    if (event.id === letter.eventId) return event;
  }
  throw new InvalidArgument(`Event ${letter.eventId} is not at position ${letter.position} of the log.`);
}
