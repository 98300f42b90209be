import type { Logger } from '../../observability/logger.js';
import { backoffDelay } from '../../retry/backoff.js';
import type { ResolvedFailurePolicy } from '../failure-policy.js';
import { ProjectionFailed } from '../projection-errors.js';
import type { ProjectionErrorInfo } from '../projection-status.js';
import { transientDelay, worthLogging } from '../transient-retry.js';

/**
 * The failures of one worker: attempts of the failure policy, consecutive transient failures (which
 * never count as attempts), and the last error met (kept for `status().lastError`).
 */
export class FailureRecord {
  /** Attempts of the failure policy on the current event, batch or read (0: none failed). */
  attempts = 0;
  /** Consecutive transient failures. */
  transient = 0;
  #last: ProjectionErrorInfo | undefined;

  constructor(
    private readonly key: string,
    private readonly logger: Logger,
    /** Called after every recorded error (the worker then knows where it stands). */
    private readonly onRecorded: () => void,
    /** Waits, waking early on a stop or a change. */
    private readonly sleep: (ms: number) => Promise<void>,
  ) {}

  get last(): ProjectionErrorInfo | undefined {
    return this.#last;
  }

  /** Keeps `error` as the last error. */
  record(error: unknown, event: ProjectionErrorInfo['event'], attempts: number): void {
    this.#last = { message: describeError(error), event, attempts, at: new Date(), error };
    this.onRecorded();
  }

  /**
   * Records a transient failure (the store unavailable, a lost connection) and waits before the retry:
   * a short capped backoff, without end, never an attempt of the failure policy.
   */
  async transientFailure(error: unknown, event: ProjectionErrorInfo['event']): Promise<void> {
    this.transient++;
    this.record(error, event, this.transient);
    if (worthLogging(this.transient)) {
      this.logger.warn(
        { err: error },
        `Projection ${this.key}: transient failure (${this.transient} in a row); retrying.`,
      );
    }
    await this.sleep(transientDelay(this.transient));
  }

  /**
   * Reading, committing or the checkpoint store failed outside a handler: a transient error waits
   * its short backoff, without end; another counts an attempt of `failure` and waits its backoff,
   * or, past its retries, is returned as the {@link ProjectionFailed} that ends the projection.
   */
  async outsideHandlers(
    error: unknown,
    transient: boolean,
    failure: ResolvedFailurePolicy,
  ): Promise<ProjectionFailed | undefined> {
    const info = eventOf(error);
    if (transient) {
      await this.transientFailure(error, info);
      return undefined;
    }
    this.attempts++;
    this.record(error, info, this.attempts);
    if (this.attempts > failure.retries) return new ProjectionFailed(this.key, info, this.attempts, error);
    this.logger.warn(
      { err: error },
      `Projection ${this.key} failed outside its handlers (attempt ${this.attempts}); retrying.`,
    );
    await this.sleep(backoffDelay(this.attempts, failure.backoff));
    return undefined;
  }
}

/** The event an error is about, when it names one (an upcast failure names its event id). */
function eventOf(error: unknown): ProjectionErrorInfo['event'] {
  const id = (error as { eventId?: unknown } | null)?.eventId;
  if (typeof id !== 'string') return undefined;
  const { eventType, streamId } = error as { eventType?: unknown; streamId?: unknown };
  return {
    id,
    type: typeof eventType === 'string' ? eventType : 'unknown',
    streamId: typeof streamId === 'string' ? streamId : undefined,
    position: undefined,
  };
}

/** `name: message` of an error, or its text. */
export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
