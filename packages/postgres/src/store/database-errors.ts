import { hasErrorCode } from '@annals/core';

/** The SQLSTATE of a database error (node-postgres and PGlite both expose `code`), or undefined. */
export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** The constraint a database error names, if any. */
export function constraintOf(error: unknown): string | undefined {
  const constraint = (error as { constraint?: unknown } | null)?.constraint;
  return typeof constraint === 'string' ? constraint : undefined;
}

/**
 * SQLSTATEs of a server going away or refusing work for a while: 57P01 admin shutdown (a fast
 * shutdown or `pg_terminate_backend`), 57P02 crash shutdown (an immediate stop), 57P03 cannot connect
 * now (starting up, shutting down, in recovery), 40001/40P01 serialization failure and deadlock,
 * 53300 too many connections. Class 08 (connection exception) is matched as a whole.
 */
const TRANSIENT_STATES = new Set(['57P01', '57P02', '57P03', '40001', '40P01', '53300']);
/** Node's socket errors for a server that is down, restarting or unreachable. */
const TRANSIENT_NODE_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);
/**
 * node-postgres' messages (no code) for a connection that died: ended by the server, broken mid-query,
 * a client that had a connection error (its ROLLBACK then fails with "not queryable"), or a pool that
 * could not connect within `connectionTimeoutMillis`.
 */
const TRANSIENT_MESSAGE =
  /Connection terminated|connection error and is not queryable|connection.*(closed|ended) unexpectedly|timeout exceeded when trying to connect|terminating connection/i;

/**
 * True for errors worth retrying after: a lost or refused connection, a backend ended by an
 * administrator or a server shutdown, a server starting up, a serialization failure or deadlock, too
 * many connections, and a `StoreUnavailable` already raised for one of these.
 */
export function isTransientError(error: unknown): boolean {
  if (hasErrorCode(error, 'STORE_UNAVAILABLE')) return true;
  const state = sqlState(error);
  if (state !== undefined) return state.startsWith('08') || TRANSIENT_STATES.has(state);
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && TRANSIENT_NODE_CODES.has(code)) return true;
  // Node's AggregateError for a host with several addresses (localhost: ::1 and 127.0.0.1).
  const errors = (error as { errors?: unknown } | null)?.errors;
  if (Array.isArray(errors) && errors.length > 0 && errors.every((e) => isTransientError(e))) return true;
  const message = error instanceof Error ? error.message : '';
  return TRANSIENT_MESSAGE.test(message);
}

/**
 * True when the connection itself is gone or could not be made (as opposed to a serialization
 * failure or deadlock, which a healthy connection reports): what `StoreUnavailable` stands for.
 */
export function isConnectionError(error: unknown): boolean {
  if (!isTransientError(error)) return false;
  const state = sqlState(error);
  return state === undefined || !['40001', '40P01'].includes(state);
}

/** True for PostgreSQL's insufficient_privilege (SQLSTATE 42501): the role may not use an object. */
export function isPermissionDenied(error: unknown): boolean {
  return sqlState(error) === '42501';
}

/**
 * Kysely's message for a query on an instance whose driver was destroyed, and node-postgres' for a
 * pool that was ended: the store (or whoever owned the connection) closed it.
 */
const CLOSED_MESSAGE =
  /^(driver has already been destroyed|Cannot use a pool after calling end on the pool)$/;

/** Whether `error` is a query refused because its Kysely instance or pool was closed. */
export function isClosedConnection(error: unknown): boolean {
  return error instanceof Error && CLOSED_MESSAGE.test(error.message);
}
