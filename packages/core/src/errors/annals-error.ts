/**
 * The stable error codes, as keys (the values carry nothing). Codes never change meaning between
 * versions, so callers may branch on them (`err.code === 'CONCURRENCY_CONFLICT'`) instead of on class
 * identity. Each code names its error class: code `FOO_BAR` is raised by class `FooBar`.
 *
 * An adapter adds its own codes by declaration merging:
 *
 * @example
 * ```ts
 * declare module '@annals/core' {
 *   interface AnnalsErrorCodes {
 *     SCHEMA_NOT_MIGRATED: true;
 *   }
 * }
 * ```
 */
export interface AnnalsErrorCodes {
  CONCURRENCY_CONFLICT: true;
  APPEND_CONDITION_FAILED: true;
  EVENT_VALIDATION_FAILED: true;
  UNKNOWN_EVENT_TYPE: true;
  STREAM_NOT_FOUND: true;
  IDEMPOTENCY_CONFLICT: true;
  INVALID_ARGUMENT: true;
  STORE_CLOSED: true;
  EVENT_TOO_LARGE: true;
  STORE_UNAVAILABLE: true;
  UPCASTER_CHAIN_INVALID: true;
  UPCAST_FAILED: true;
  AGGREGATE_NOT_FOUND: true;
  AGGREGATE_DEFINITION_INVALID: true;
  MISSING_APPLY_HANDLER: true;
  DECORATORS_NOT_CONFIGURED: true;
  COMMAND_VALIDATION_FAILED: true;
  HANDLER_NOT_FOUND: true;
  DUPLICATE_HANDLER: true;
  PROJECTION_FAILED: true;
  PROJECTION_DEFINITION_INVALID: true;
  LEASE_LOST: true;
  CHECKPOINT_CONFLICT: true;
  PROCESS_MANAGER_DEFINITION_INVALID: true;
  PROCESS_COMPENSATION_FAILED: true;
}

/** Every stable error code Annals (or an adapter, see {@link AnnalsErrorCodes}) raises. */
export type AnnalsErrorCode = keyof AnnalsErrorCodes & string;

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
