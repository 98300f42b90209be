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

const TRANSIENT_STATES = new Set(['57P01', '57P02', '57P03', '40001', '40P01', '53300']);
const TRANSIENT_NODE_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND']);

/**
 * True for errors worth retrying a read after: a lost or refused connection, a backend ended by an
 * administrator, a serialization failure or deadlock, too many connections.
 */
export function isTransientError(error: unknown): boolean {
  const state = sqlState(error);
  if (state !== undefined) return state.startsWith('08') || TRANSIENT_STATES.has(state);
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && TRANSIENT_NODE_CODES.has(code)) return true;
  const message = error instanceof Error ? error.message : '';
  return /Connection terminated|connection.*(closed|ended)|timeout exceeded when trying to connect/i.test(
    message,
  );
}
