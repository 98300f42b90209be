import { InvalidArgument, type StoredDeadLetter } from '@annals/core';
import { PostgresDeadLetterStore, type PostgresEventStore } from '@annals/postgres';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The dead letters `ref` names: the letter with that id (`annals dead-letters list` shows it), or,
 * when `ref` is an event id (a UUID), every letter of that event (of one projection when
 * `projection` is given). `INVALID_ARGUMENT` when there is none.
 */
export async function lettersOf(
  store: PostgresEventStore,
  ref: string,
  projection: string | undefined,
): Promise<StoredDeadLetter[]> {
  const letters = new PostgresDeadLetterStore(store);
  const found = UUID.test(ref)
    ? (await letters.list(projection)).filter((l) => l.eventId === ref.toLowerCase())
    : [await letters.get(ref)].filter(
        (l): l is StoredDeadLetter =>
          l !== undefined && (projection === undefined || l.projection === projection),
      );
  if (found.length === 0) {
    throw new InvalidArgument(
      `No dead letter ${UUID.test(ref) ? 'for event ' : 'with id '}${ref}${projection === undefined ? '' : ` of projection ${projection}`}; annals dead-letters list shows them.`,
    );
  }
  return found;
}

/** The one dead letter `ref` names, or `INVALID_ARGUMENT` asking for `--projection` when several projections skipped the event. */
export async function letterOf(
  store: PostgresEventStore,
  ref: string,
  projection: string | undefined,
): Promise<StoredDeadLetter> {
  const found = await lettersOf(store, ref, projection);
  if (found.length > 1) {
    throw new InvalidArgument(
      `Event ${ref} was skipped by ${found.map((l) => l.key).join(', ')}; name one with --projection, or give the dead letter's id.`,
    );
  }
  return found[0]!;
}
