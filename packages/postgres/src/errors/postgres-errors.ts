import { AnnalsError } from '@annals/core';

declare module '@annals/core' {
  // The codes `@annals/postgres` adds to the stable error codes (declaration merging).
  interface AnnalsErrorCodes {
    SCHEMA_NOT_MIGRATED: true;
    MIGRATION_FAILED: true;
    TRANSACTION_IDS_REWOUND: true;
    PERMISSION_DENIED: true;
  }
}

/**
 * The store's schema is missing or older than this version of `@annals/postgres` needs. Nothing was
 * read or written. Run `await store.migrate()` (explicitly, once per deployment) and retry.
 */
export class SchemaNotMigrated extends AnnalsError {
  /** The PostgreSQL schema the store was configured with. */
  readonly schema: string;
  constructor(schema: string, found: string, options?: { cause?: unknown }) {
    super(
      'SCHEMA_NOT_MIGRATED',
      `Expected the Annals tables in schema "${schema}" at the latest migration, found ${found}; run await store.migrate() first.`,
      options,
    );
    this.schema = schema;
  }
}

/** `store.migrate()` failed; `cause` is the database error, `migration` the step that failed. */
export class MigrationFailed extends AnnalsError {
  readonly schema: string;
  /** The name of the migration that failed, when known. */
  readonly migration: string | undefined;
  constructor(schema: string, migration: string | undefined, cause: unknown) {
    super(
      'MIGRATION_FAILED',
      `Migrating schema "${schema}" failed${migration === undefined ? '' : ` at ${migration}`}: ${
        cause instanceof Error ? cause.message : String(cause)
      }`,
      { cause },
    );
    this.schema = schema;
    this.migration = migration;
  }
}

/**
 * The database's transaction ids are behind the ones stored in the event log: the data was restored
 * from a dump into another cluster (or the cluster was reset). Global positions derive from
 * transaction ids, so new events would sort before old ones and readers would skip them; the store
 * refuses to start instead. The remedy is in docs/guides/postgres.md, "Cost: transaction ids do not
 * survive a dump and restore".
 */
export class TransactionIdsRewound extends AnnalsError {
  readonly schema: string;
  /** The next transaction id this cluster will assign. */
  readonly nextTransactionId: bigint;
  /** The highest transaction id stored in the event log. */
  readonly storedTransactionId: bigint;
  constructor(schema: string, nextTransactionId: bigint, storedTransactionId: bigint) {
    super(
      'TRANSACTION_IDS_REWOUND',
      `Expected this cluster's next transaction id to be above every one stored in "${schema}".events (up to ${storedTransactionId}), found ${nextTransactionId}: the events were probably restored from a dump into another cluster. New events would sort before stored ones, so the store refuses to start; advance the cluster's transaction ids past ${storedTransactionId} (see docs/guides/postgres.md, "Cost: transaction ids do not survive a dump and restore").`,
    );
    this.schema = schema;
    this.nextTransactionId = nextTransactionId;
    this.storedTransactionId = storedTransactionId;
  }
}

/**
 * The database could not be reached, or the connection broke, during an operation (`cause` is the
 * driver's error, the first one: not the failed ROLLBACK that follows a dead connection). Nothing is
 * wrong with the data: retry once the server is back. For an append (or a transaction that appended)
 * the outcome is unknown: it may have committed. Retry it with the same event ids: appends are
 * idempotent, so a batch that did commit returns its first result and is not written twice.
 */
export class StoreUnavailable extends AnnalsError {
  /** What was being done, e.g. `an append to stream account-7`. */
  readonly operation: string;
  /**
   * @param operation what was being done (`an append to stream account-7`).
   * @param cause the driver's error.
   * @param options.hint what to check or do, replacing the default advice.
   */
  constructor(operation: string, cause: unknown, options: { readonly hint?: string } = {}) {
    const advice =
      options.hint ??
      (/append|transaction/.test(operation)
        ? 'It may have committed: retrying with the same event ids is safe (a stored batch returns its first result, nothing is written twice).'
        : 'Retry once the database is reachable again.');
    super(
      'STORE_UNAVAILABLE',
      `The database connection failed during ${operation}: ${describeCause(cause)}. ${advice}`,
      { cause },
    );
    this.operation = operation;
  }
}

/**
 * PostgreSQL refused the work for lack of privileges (SQLSTATE 42501, insufficient_privilege): the
 * store's role may not use the schema or table named in the message, e.g. a tenant role (see
 * `grantTenantRole`) reaching another tenant. Nothing was read or written. Not transient: retrying
 * does not help; connect with a role that holds the grant.
 */
export class PermissionDenied extends AnnalsError {
  /** What was refused, e.g. `a read of stream order-7 in schema "app_t_globex"`. */
  readonly operation: string;
  /**
   * @param operation what was being done.
   * @param cause the driver's error, whose message names the refused object.
   */
  constructor(operation: string, cause: unknown) {
    super(
      'PERMISSION_DENIED',
      `PostgreSQL refused ${operation}: ${describeCause(cause)}. The connection's role lacks the privileges; connect with a role granted this schema (grantTenantRole for a tenant).`,
      { cause },
    );
    this.operation = operation;
  }
}

function describeCause(cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause);
  const code = (cause as { code?: unknown }).code;
  const message = cause.message !== '' ? cause.message : cause.name;
  // An AggregateError (a host with several addresses) has an empty message: show its parts.
  const parts = (cause as { errors?: unknown }).errors;
  const detail =
    cause.message === '' && Array.isArray(parts)
      ? parts.map((e) => (e instanceof Error ? e.message : String(e))).join('; ')
      : message;
  return typeof code === 'string' && !detail.includes(code) ? `${detail} (${code})` : detail;
}
