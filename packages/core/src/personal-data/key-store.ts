/** One key version of a data subject: 32 bytes for AES-256-GCM. */
export interface SubjectKey {
  readonly subject: string;
  /** 1 for the first key, one more per `rotate`. */
  readonly version: number;
  readonly key: Uint8Array;
}

/** What a key store knows of one subject: every key version, or that it was forgotten. */
export type SubjectKeys =
  | { readonly forgotten: true }
  | { readonly forgotten: false; readonly versions: ReadonlyMap<number, Uint8Array> };

/**
 * What a store passes along with a key lookup: the store transaction the append or read runs in,
 * when there is one. A key store in the same database runs its statements in it (on PGlite, the one
 * connection is the transaction's); any other key store ignores it.
 */
export interface KeyStoreCallOptions {
  readonly transaction?: unknown;
}

/**
 * Where the per-subject keys of personal data live. `InMemoryKeyStore` and `PostgresKeyStore`
 * (`@annals/postgres`) implement it; a KMS fits behind it too (keep wrapped data keys, unwrap them in
 * `keys`). `runKeyStoreConformance` from `@annals/testing` checks an implementation.
 *
 * Forgetting a subject must destroy every version of its key and remember that the subject was
 * forgotten: readers then get `FORGOTTEN`, while a subject the store never heard of is an error
 * (a lost key store), never garbage data.
 */
export interface KeyStore {
  /**
   * The newest key of each subject, creating version 1 for a subject without one. Throws
   * `ForgottenSubjectRefused` for a forgotten subject.
   */
  currentKeys(
    subjects: readonly string[],
    options?: KeyStoreCallOptions,
  ): Promise<ReadonlyMap<string, SubjectKey>>;
  /** What the store knows of each subject; a subject it never heard of is absent from the map. */
  keys(subjects: readonly string[], options?: KeyStoreCallOptions): Promise<ReadonlyMap<string, SubjectKeys>>;
  /** Adds a new key version for `subject`, used by later appends; older versions stay readable. */
  rotate(subject: string): Promise<SubjectKey>;
  /** Destroys every key version of `subject` and remembers it as forgotten. Idempotent. */
  forget(subject: string): Promise<void>;
}

/** The store option that turns on sealing of personal fields (`personalData: { keys }`). */
export interface PersonalDataOptions {
  /** Where the per-subject keys live. */
  readonly keys: KeyStore;
}
