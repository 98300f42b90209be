import { InvalidArgument } from '../errors/store-errors.js';
import { assertStoreKey } from '../store/store-key.js';

/** A poison event a projection skipped under its `'dead-letter'` failure policy, with why. */
export interface DeadLetter {
  /** The projection name. */
  readonly projection: string;
  /** The checkpoint key (the projection name, or one of its shards). */
  readonly key: string;
  readonly eventId: string;
  readonly eventType: string;
  readonly streamId: string;
  readonly position: bigint;
  /** The last error's message (`name: message`). */
  readonly error: string;
  /** The last error's stack, when it had one. */
  readonly stack?: string;
  /** Attempts made before the event was skipped. */
  readonly attempts: number;
  readonly recordedAt: Date;
}

/**
 * Where skipped poison events are recorded. A runner writes the record in the same transaction that
 * moves the checkpoint past the event, so an event is never skipped without its record.
 *
 * Implementations: {@link InMemoryDeadLetterStore}; on Postgres `PostgresDeadLetterStore` (a table).
 */
export interface DeadLetterStore<TTransaction = unknown> {
  /** Records one skipped event, inside `options.transaction` when given. */
  record(letter: DeadLetter, options?: { readonly transaction?: TTransaction }): Promise<void>;
  /** The recorded letters, oldest first; those of one projection when `projection` is given. */
  list(projection?: string): Promise<readonly DeadLetter[]>;
}

/** A {@link DeadLetterStore} in process memory (the runner's default). */
export class InMemoryDeadLetterStore implements DeadLetterStore<undefined> {
  readonly #letters: DeadLetter[] = [];

  async record(letter: DeadLetter): Promise<void> {
    assertDeadLetter(letter);
    this.#letters.push(Object.freeze({ ...letter }));
  }

  async list(projection?: string): Promise<readonly DeadLetter[]> {
    if (projection !== undefined) assertDeadLetterProjection(projection);
    return this.#letters.filter((l) => projection === undefined || l.projection === projection);
  }
}

/**
 * Checks a letter before it is recorded: an object whose projection name and key are each a
 * non-empty string of well-formed text without the NUL character, of at most `MAX_KEY_BYTES` UTF-8
 * bytes (see `assertStoreKey`). Every dead-letter store calls it, so they refuse the same letters
 * with `InvalidArgument`.
 */
export function assertDeadLetter(letter: DeadLetter): void {
  if (typeof letter !== 'object' || letter === null) {
    throw new InvalidArgument(`A dead letter must be an object, found ${String(letter)}.`);
  }
  assertDeadLetterProjection(letter.projection);
  assertStoreKey('dead-letter key', letter.key);
}

/** Checks the projection name of a dead letter, or the one `list` filters on (see {@link assertDeadLetter}). */
export function assertDeadLetterProjection(projection: string): void {
  assertStoreKey('dead-letter projection name', projection);
}
