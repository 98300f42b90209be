import { AnnalsError } from '../errors/annals-error.js';

declare module '../errors/annals-error.js' {
  interface AnnalsErrorCodes {
    PERSONAL_DATA_KEYS_MISSING: true;
    KEY_STORE_UNAVAILABLE: true;
    PERSONAL_DATA_UNREADABLE: true;
    FORGOTTEN_SUBJECT_REFUSED: true;
  }
}

/**
 * Personal fields (`personal()`) were to be sealed or opened, or `forget`/`rotateKey` was called,
 * with a registry that has no key store (`personalData: { keys }`). Nothing is written in clear and
 * no envelope is handed out as data. (The shipped stores bring a default key store: see
 * `InMemoryEventStore` and `PostgresEventStore`.)
 */
export class PersonalDataKeysMissing extends AnnalsError {
  constructor(detail: string) {
    super(
      'PERSONAL_DATA_KEYS_MISSING',
      `Expected a key store (the store option personalData: { keys }) to seal personal fields; found none: ${detail}.`,
    );
  }
}

/** The key store failed (a database down, a KMS unreachable); `cause` is its error. Nothing was written. */
export class KeyStoreUnavailable extends AnnalsError {
  constructor(operation: string, cause: unknown) {
    const message = cause instanceof Error ? cause.message : String(cause);
    super('KEY_STORE_UNAVAILABLE', `The key store failed during ${operation}: ${message}`, { cause });
  }
}

/**
 * A sealed personal field cannot be read: its envelope is malformed, its ciphertext does not
 * authenticate (altered, or sealed under another key), or the key store holds no key for its subject
 * although the subject was never forgotten (a lost or wrong key store). Readers get this error, never
 * garbage data.
 */
export class PersonalDataUnreadable extends AnnalsError {
  /** The subject named by the envelope, when it names one. */
  readonly subject: string | undefined;

  constructor(subject: string | undefined, reason: string, options?: { cause?: unknown }) {
    const who = subject === undefined ? '' : ` of subject ${JSON.stringify(subject)}`;
    super('PERSONAL_DATA_UNREADABLE', `Expected a readable personal field${who}; ${reason}.`, options);
    this.subject = subject;
  }
}

/**
 * An append holds personal data of a subject that was forgotten: its keys are destroyed and the
 * store refuses to start a new history for it. Nothing was written.
 */
export class ForgottenSubjectRefused extends AnnalsError {
  readonly subject: string;

  constructor(subject: string) {
    super(
      'FORGOTTEN_SUBJECT_REFUSED',
      `Expected personal data of a subject that was not forgotten; subject ${JSON.stringify(subject)} was forgotten, so its data cannot be sealed again.`,
    );
    this.subject = subject;
  }
}
