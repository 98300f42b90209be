import { AnnalsError, isAnnalsError } from '@annals/core';

declare module '@annals/core' {
  // The code `@annals/console` adds to the stable error codes (declaration merging).
  interface AnnalsErrorCodes {
    ACTION_REFUSED: true;
  }
}

/**
 * A state-changing action of the console was refused: the console is read-only (`reason:
 * 'read-only'`, HTTP 403), or the request carried no token or an unknown one (`reason: 'token'`,
 * HTTP 401). Nothing was changed.
 */
export class ActionRefused extends AnnalsError {
  /** Why: the console allows no actions, or the token is missing or unknown. */
  readonly reason: 'read-only' | 'token';
  constructor(reason: 'read-only' | 'token', message: string) {
    super('ACTION_REFUSED', message);
    this.reason = reason;
  }
}

/**
 * The HTTP status an error answers with: 400 for bad input, 404, 401/403 for refusals, 409 for a
 * conflict, 422 when a retried dead letter's handler failed again, 503 when the store is out of
 * reach, else 500.
 */
export function statusOf(error: unknown): 400 | 401 | 403 | 404 | 409 | 422 | 500 | 503 {
  if (!isAnnalsError(error)) return 500;
  switch (error.code) {
    case 'INVALID_ARGUMENT':
      return 400;
    case 'STREAM_NOT_FOUND':
    case 'AGGREGATE_NOT_FOUND':
      return 404;
    case 'ACTION_REFUSED':
      return (error as ActionRefused).reason === 'token' ? 401 : 403;
    case 'LEASE_LOST':
    case 'CONCURRENCY_CONFLICT':
      return 409;
    case 'PROJECTION_FAILED':
      return 422;
    case 'STORE_UNAVAILABLE':
      return 503;
    default:
      return 500;
  }
}

/** An error as the JSON body the API answers with: `{ error: { code, message } }`. */
export function errorBody(error: unknown): { error: { code: string; message: string } } {
  return {
    error: {
      code: isAnnalsError(error) ? error.code : 'ERROR',
      message: error instanceof Error ? error.message : String(error),
    },
  };
}
