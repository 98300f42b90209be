import { randomBytes } from 'node:crypto';
import {
  assertSubject,
  ForgottenSubjectRefused,
  type KeyStore,
  type KeyStoreCallOptions,
  KeyStoreUnavailable,
  StoreClosed,
  type SubjectKey,
  type SubjectKeys,
} from '@annals/core';
import { type Kysely, sql } from 'kysely';
import { PermissionDenied } from '../errors/postgres-errors.js';
import { assertSchemaName } from '../schema/schema-name.js';
import type { AnnalsTablesLocation } from '../schema/tables.js';
import { isClosedConnection, isPermissionDenied } from '../store/database-errors.js';

interface KeyRow {
  readonly subject: string;
  readonly version: number;
  readonly key: Uint8Array | null;
  readonly forgotten: boolean;
}

/**
 * The {@link KeyStore} on PostgreSQL: key versions in `personal_data_keys`, forgotten subjects in
 * `forgotten_subjects` (both created by `store.migrate()`, migration `0009_personal_data_keys`).
 * `forget` deletes the subject's key rows and records it in one transaction. Keep the database's
 * backups and WAL archives in mind: a destroyed key lives on in them until they expire.
 *
 * Give it to a store as `personalData: { keys: 'postgres' }` (the store's own connection and
 * schema), or build it on any Kysely instance: `new PostgresKeyStore({ kysely, schema })`.
 *
 * @example
 * ```ts
 * const store = await PostgresEventStore.create(connection, { events, personalData: { keys: 'postgres' } });
 * ```
 */
export class PostgresKeyStore implements KeyStore {
  #location: AnnalsTablesLocation | undefined;

  constructor(location?: AnnalsTablesLocation) {
    if (location !== undefined) assertSchemaName(location.schema);
    this.#location = location;
  }

  /** @internal Binds a store's key store to the store's connection (`keys: 'postgres'`). */
  attach(location: AnnalsTablesLocation): void {
    this.#location ??= location;
  }

  async currentKeys(
    subjects: readonly string[],
    options?: KeyStoreCallOptions,
  ): Promise<ReadonlyMap<string, SubjectKey>> {
    for (const subject of subjects) assertSubject(subject);
    const wanted = [...new Set(subjects)];
    if (wanted.length === 0) return new Map();
    const { rows } = await this.#run('reading current keys', options, async (db) => {
      // A subject without a key gets version 1, unless it was forgotten; concurrent creators agree.
      for (const subject of wanted) {
        await sql`insert into ${this.#t('personal_data_keys')} (subject, version, key)
          select ${subject}, 1, ${randomBytes(32)}
          where not exists (select 1 from ${this.#t('personal_data_keys')} where subject = ${subject})
            and not exists (select 1 from ${this.#t('forgotten_subjects')} where subject = ${subject})
          on conflict do nothing`.execute(db);
      }
      return this.#select(db, wanted, true);
    });
    const result = new Map<string, SubjectKey>();
    for (const row of rows) {
      if (row.forgotten) throw new ForgottenSubjectRefused(row.subject);
      result.set(row.subject, { subject: row.subject, version: row.version, key: row.key! });
    }
    return result;
  }

  async keys(
    subjects: readonly string[],
    options?: KeyStoreCallOptions,
  ): Promise<ReadonlyMap<string, SubjectKeys>> {
    const wanted = [...new Set(subjects)];
    const result = new Map<string, SubjectKeys>();
    if (wanted.length === 0) return result;
    const { rows } = await this.#run('reading keys', options, (db) => this.#select(db, wanted, false));
    for (const row of rows) {
      if (row.forgotten) {
        result.set(row.subject, { forgotten: true });
        continue;
      }
      const known = result.get(row.subject);
      const versions = known?.forgotten === false ? (known.versions as Map<number, Uint8Array>) : new Map();
      versions.set(row.version, row.key!);
      result.set(row.subject, { forgotten: false, versions });
    }
    return result;
  }

  async rotate(subject: string): Promise<SubjectKey> {
    assertSubject(subject);
    const { rows } = await this.#run(`rotating the key of ${subject}`, undefined, (db) =>
      sql<{ version: number; key: Uint8Array }>`
        insert into ${this.#t('personal_data_keys')} (subject, version, key)
        select ${subject}, coalesce(max(version), 0) + 1, ${randomBytes(32)}
        from ${this.#t('personal_data_keys')} where subject = ${subject}
        having not exists (select 1 from ${this.#t('forgotten_subjects')} where subject = ${subject})
        returning version, key`.execute(db),
    );
    if (rows[0] === undefined) throw new ForgottenSubjectRefused(subject);
    return { subject, version: rows[0].version, key: rows[0].key };
  }

  async forget(subject: string): Promise<void> {
    assertSubject(subject);
    await this.#run(`forgetting ${subject}`, undefined, (db) =>
      db.transaction().execute(async (tx) => {
        await sql`insert into ${this.#t('forgotten_subjects')} (subject) values (${subject})
          on conflict do nothing`.execute(tx);
        await sql`delete from ${this.#t('personal_data_keys')} where subject = ${subject}`.execute(tx);
      }),
    );
  }

  /** Every key row of `subjects` (only the newest version with `current`), and their forgotten marks. */
  #select(db: Kysely<any>, subjects: readonly string[], current: boolean) {
    const newest = current
      ? sql`and k.version = (select max(version) from ${this.#t('personal_data_keys')} where subject = k.subject)`
      : sql``;
    return sql<KeyRow>`
      select k.subject, k.version, k.key, false as forgotten
      from ${this.#t('personal_data_keys')} k
      where k.subject = any(${subjects}::text[]) ${newest}
      union all
      select f.subject, 0, null, true from ${this.#t('forgotten_subjects')} f
      where f.subject = any(${subjects}::text[])`.execute(db);
  }

  async #run<T>(
    operation: string,
    options: KeyStoreCallOptions | undefined,
    work: (db: Kysely<any>) => Promise<T>,
  ): Promise<T> {
    const location = this.#location;
    if (location === undefined) {
      throw new KeyStoreUnavailable(operation, new Error('the key store is not bound to a database'));
    }
    try {
      // In the caller's transaction when there is one (PGlite's one connection is held by it).
      const transaction = options?.transaction as Kysely<any> | undefined;
      return await work((transaction ?? location.kysely).withoutPlugins());
    } catch (error) {
      if (error instanceof ForgottenSubjectRefused) throw error;
      if (isPermissionDenied(error)) throw new PermissionDenied(operation, error);
      if (isClosedConnection(error)) throw new StoreClosed("event store's connection");
      throw new KeyStoreUnavailable(operation, error);
    }
  }

  #t(table: string) {
    return sql.id(this.#location!.schema, table);
  }
}
