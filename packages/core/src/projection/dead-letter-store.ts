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

/** A recorded {@link DeadLetter}, with the id its store gave it. */
export interface StoredDeadLetter extends DeadLetter {
  /** Unique within its store; pass it to `get` and `remove`. */
  readonly id: string;
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
  list(projection?: string): Promise<readonly StoredDeadLetter[]>;
  /** The letter with this id, or undefined when there is none (an id the store never gave included). */
  get(id: string): Promise<StoredDeadLetter | undefined>;
  /**
   * Removes the letter with this id, inside `options.transaction` when given (so a retried event's
   * effects and the removal of its letter commit together). Resolves false when there was none.
   */
  remove(id: string, options?: { readonly transaction?: TTransaction }): Promise<boolean>;
}

/** A {@link DeadLetterStore} in process memory (the runner's default). */
export class InMemoryDeadLetterStore implements DeadLetterStore<undefined> {
  readonly #letters: StoredDeadLetter[] = [];
  #lastId = 0;

  async record(letter: DeadLetter): Promise<void> {
    assertDeadLetter(letter);
    this.#letters.push(Object.freeze({ ...letter, id: String(++this.#lastId) }));
  }

  async list(projection?: string): Promise<readonly StoredDeadLetter[]> {
    if (projection !== undefined) assertDeadLetterProjection(projection);
    return this.#letters.filter((l) => projection === undefined || l.projection === projection);
  }

  async get(id: string): Promise<StoredDeadLetter | undefined> {
    assertDeadLetterId(id);
    return this.#letters.find((l) => l.id === id);
  }

  async remove(id: string): Promise<boolean> {
    assertDeadLetterId(id);
    const index = this.#letters.findIndex((l) => l.id === id);
    if (index < 0) return false;
    this.#letters.splice(index, 1);
    return true;
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

/**
 * Checks the id given to `get` or `remove` of a dead-letter store with `assertStoreKey` (a non-empty
 * string of well-formed text without the NUL character): every store calls it, so they refuse the
 * same ids with `InvalidArgument`. A well-formed id the store never gave is not an error: there is
 * no such letter.
 */
export function assertDeadLetterId(id: unknown): asserts id is string {
  assertStoreKey('dead-letter id', id);
}
