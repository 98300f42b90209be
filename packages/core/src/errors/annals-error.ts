/**
 * Every stable error code Annals raises. Codes never change meaning between versions, so callers
 * may branch on them (`err.code === 'CONCURRENCY_CONFLICT'`) instead of on class identity.
 */
export type AnnalsErrorCode =
  | 'CONCURRENCY_CONFLICT'
  | 'EVENT_VALIDATION_FAILED'
  | 'UNKNOWN_EVENT_TYPE'
  | 'STREAM_NOT_FOUND'
  | 'IDEMPOTENCY_CONFLICT'
  | 'INVALID_ARGUMENT'
  | 'STORE_CLOSED'
  | 'EVENT_TOO_LARGE'
  | 'UPCASTER_CHAIN_INVALID'
  | 'UPCAST_FAILED'
  | 'AGGREGATE_NOT_FOUND'
  | 'AGGREGATE_DEFINITION_INVALID'
  | 'MISSING_APPLY_HANDLER'
  | 'DECORATORS_NOT_CONFIGURED'
  | 'COMMAND_VALIDATION_FAILED'
  | 'HANDLER_NOT_FOUND'
  | 'DUPLICATE_HANDLER'
  | 'PROJECTION_FAILED'
  | 'PROJECTION_DEFINITION_INVALID'
  | 'LEASE_LOST'
  | 'CHECKPOINT_CONFLICT'
  | 'STORE_UNAVAILABLE'
  | 'SCHEMA_MISMATCH'
  | 'MIGRATION_FAILED'
  | 'TRANSACTION_IDS_REWOUND';

/** The symbol-free brand that lets {@link isAnnalsError} recognise errors from another copy of the package. */
const BRAND = '__annalsError';

/**
 * Base class of every error Annals raises: a stable {@link AnnalsErrorCode}, a message that says what
 * was expected and what was found, and the standard `cause`.
 *
 * @example
 * ```ts
 * try { await store.append('account-7', events, { expectedRevision: 3n }); }
 * catch (err) { if (isAnnalsError(err) && err.code === 'CONCURRENCY_CONFLICT') retry(); else throw err; }
 * ```
 */
export class AnnalsError extends Error {
  /** Stable machine-readable code. */
  readonly code: AnnalsErrorCode;
  readonly [BRAND] = true;

  constructor(code: AnnalsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/**
 * True when `value` is an Annals error, also when it was thrown by a second installed copy of
 * `@annals/core` (it checks the brand and the code, not only `instanceof`).
 */
export function isAnnalsError(value: unknown): value is AnnalsError {
  if (value instanceof AnnalsError) return true;
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<string, unknown>)[BRAND] === true &&
    typeof (value as { code?: unknown }).code === 'string'
  );
}

/** True when `value` is an Annals error with the given code (works across package copies). */
export function hasErrorCode<C extends AnnalsErrorCode>(
  value: unknown,
  code: C,
): value is AnnalsError & { code: C } {
  return isAnnalsError(value) && value.code === code;
}
