import {
  failedEventInfo,
  InvalidArgument,
  type Projection,
  ProjectionFailed,
  type RecordedEvent,
  type StoredDeadLetter,
} from '@annals/core';
import type { PostgresEventStore } from '../store/postgres-event-store.js';
import { PostgresDeadLetterStore } from './postgres-dead-letter-store.js';
import type { PostgresProjectionContext } from './postgres-projection-runner.js';

/** The event a dead letter names, read from the log at its position (as the store reads it). */
export async function deadLetterEvent(
  store: PostgresEventStore,
  letter: StoredDeadLetter,
): Promise<RecordedEvent> {
  for await (const event of store.readAll({ fromPosition: letter.position, maxCount: 1 })) {
    if (event.id === letter.eventId) return event;
  }
  throw new InvalidArgument(`Event ${letter.eventId} is not at position ${letter.position} of the log.`);
}

/**
 * Applies the event of dead letter `letter` through `projection` again and removes the letter, in
 * one transaction: what `annals dead-letters retry` and the console's Retry do. When the handler
 * fails again, `ProjectionFailed` (its error as `cause`) and the letter stays; when another retry or
 * discard removed the letter meanwhile, `InvalidArgument` and nothing is changed. Resolves with the
 * event applied.
 *
 * @example
 * ```ts
 * const letter = (await new PostgresDeadLetterStore(store).list('balances'))[0]!;
 * await retryDeadLetter(store, AccountBalances, letter);
 * ```
 */
export async function retryDeadLetter(
  store: PostgresEventStore,
  projection: Projection<PostgresProjectionContext>,
  letter: StoredDeadLetter,
): Promise<RecordedEvent> {
  if (projection.name !== letter.projection) {
    throw new InvalidArgument(
      `Dead letter ${letter.id} is of projection ${letter.projection}, not of ${projection.name}.`,
    );
  }
  const event = await deadLetterEvent(store, letter);
  const letters = new PostgresDeadLetterStore(store);
  await store.transaction(async (tx) => {
    try {
      if (projection.batched) await projection.handleBatch([event], { tx });
      else await projection.handle(event, { tx });
    } catch (error) {
      throw new ProjectionFailed(projection.name, failedEventInfo(event), 1, error);
    }
    // Removed in the same transaction: a concurrent retry that removed it first rolls this one back.
    if (!(await letters.remove(letter.id, { transaction: tx }))) throw letterGone(letter);
  });
  return event;
}

/**
 * Removes dead letter `letter` without applying its event; `InvalidArgument` when another retry or
 * discard removed it meanwhile.
 */
export async function discardDeadLetter(store: PostgresEventStore, letter: StoredDeadLetter): Promise<void> {
  if (!(await new PostgresDeadLetterStore(store).remove(letter.id))) throw letterGone(letter);
}

/** The dead letter was removed by another retry or discard between reading and removing it. */
function letterGone(letter: StoredDeadLetter): InvalidArgument {
  return new InvalidArgument(
    `No dead letter with id ${letter.id} (event ${letter.eventId}) any more: another retry or discard removed it meanwhile; nothing was changed.`,
  );
}
