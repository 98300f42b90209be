import { randomBytes } from 'node:crypto';
import { InvalidArgument } from '../errors/store-errors.js';
import type { KeyStore, SubjectKey, SubjectKeys } from './key-store.js';
import { ForgottenSubjectRefused } from './personal-data-errors.js';

/**
 * A {@link KeyStore} in process memory: keys live as long as the object. For tests and examples; a
 * store that outlives the process needs keys that do too (`PostgresKeyStore`, or a KMS).
 */
export class InMemoryKeyStore implements KeyStore {
  readonly #keys = new Map<string, Uint8Array[]>();
  readonly #forgotten = new Set<string>();

  async currentKeys(subjects: readonly string[]): Promise<ReadonlyMap<string, SubjectKey>> {
    const result = new Map<string, SubjectKey>();
    for (const subject of subjects) {
      assertSubject(subject);
      if (this.#forgotten.has(subject)) throw new ForgottenSubjectRefused(subject);
      let versions = this.#keys.get(subject);
      if (versions === undefined) this.#keys.set(subject, (versions = [randomBytes(32)]));
      result.set(subject, { subject, version: versions.length, key: versions[versions.length - 1]! });
    }
    return result;
  }

  async keys(subjects: readonly string[]): Promise<ReadonlyMap<string, SubjectKeys>> {
    const result = new Map<string, SubjectKeys>();
    for (const subject of subjects) {
      if (this.#forgotten.has(subject)) {
        result.set(subject, { forgotten: true });
        continue;
      }
      const versions = this.#keys.get(subject);
      if (versions === undefined) continue;
      result.set(subject, { forgotten: false, versions: new Map(versions.map((key, i) => [i + 1, key])) });
    }
    return result;
  }

  async rotate(subject: string): Promise<SubjectKey> {
    assertSubject(subject);
    if (this.#forgotten.has(subject)) throw new ForgottenSubjectRefused(subject);
    const versions = this.#keys.get(subject) ?? [];
    versions.push(randomBytes(32));
    this.#keys.set(subject, versions);
    return { subject, version: versions.length, key: versions[versions.length - 1]! };
  }

  async forget(subject: string): Promise<void> {
    assertSubject(subject);
    this.#keys.delete(subject);
    this.#forgotten.add(subject);
  }
}

/** Checks a subject: a non-empty string. Key stores share it so they refuse the same input. */
export function assertSubject(subject: unknown): asserts subject is string {
  if (typeof subject !== 'string' || subject.length === 0) {
    throw new InvalidArgument(`A data subject must be a non-empty string, found ${JSON.stringify(subject)}.`);
  }
}
