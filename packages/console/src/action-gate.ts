import { createHash, timingSafeEqual } from 'node:crypto';
import { InvalidArgument } from '@annals/core';
import { ActionRefused } from './errors.js';
import type { ConsoleLogger, ConsoleToken } from './options.js';

/** The shortest secret a token may have. */
export const MIN_SECRET_LENGTH = 16;

/** What an action did, for the log. */
export interface ActionRecord {
  /** The token label of whoever asked. */
  readonly who: string;
  /** `rebuild`, `pause`, `resume`, `dead-letter.retry`, `dead-letter.discard`. */
  readonly action: string;
  /** What it acted on (projection, event id...). */
  readonly target: Readonly<Record<string, string>>;
}

/**
 * Lets an action through when the console has tokens and the request carries one of them
 * (`Authorization: Bearer <secret>`), and logs every action asked for: who (the token's label),
 * what, when, and how it ended (`ok`, `failed`, `refused`).
 */
export class ActionGate {
  readonly #tokens: readonly { readonly label: string; readonly digest: Buffer }[];
  readonly #logger: ConsoleLogger;

  constructor(tokens: readonly ConsoleToken[], logger: ConsoleLogger) {
    this.#tokens = tokens.map((token) => {
      if (typeof token?.label !== 'string' || token.label.trim() === '') {
        throw new InvalidArgument(
          `A console token needs a label (who it is), found ${JSON.stringify(token?.label)}.`,
        );
      }
      if (typeof token.secret !== 'string' || token.secret.length < MIN_SECRET_LENGTH) {
        throw new InvalidArgument(
          `The secret of console token ${token.label} must be at least ${MIN_SECRET_LENGTH} characters, found ${typeof token.secret === 'string' ? token.secret.length : typeof token.secret}.`,
        );
      }
      return { label: token.label, digest: digest(token.secret) };
    });
    this.#logger = logger;
  }

  /** Whether any action can be allowed (the console has tokens). */
  get enabled(): boolean {
    return this.#tokens.length > 0;
  }

  /**
   * Runs `work` as `action` on `target` for the holder of the token in `authorization`; logs the
   * outcome. `ActionRefused` (nothing run) when the console is read-only or the token is unknown.
   */
  async run<T>(
    authorization: string | undefined,
    action: string,
    target: Readonly<Record<string, string>>,
    work: (record: ActionRecord) => Promise<T>,
  ): Promise<T> {
    const at = new Date().toISOString();
    let who: string;
    try {
      who = this.#authorize(authorization);
    } catch (error) {
      this.#logger.info(`console action ${action} refused`, {
        who: 'unknown',
        action,
        target,
        at,
        outcome: 'refused',
        reason: (error as ActionRefused).reason,
      });
      throw error;
    }
    const record: ActionRecord = { who, action, target };
    try {
      const result = await work(record);
      this.#logger.info(`console action ${action} by ${who}`, { ...record, at, outcome: 'ok' });
      return result;
    } catch (error) {
      this.#logger.error(`console action ${action} by ${who} failed`, {
        ...record,
        at,
        outcome: 'failed',
        error: error instanceof Error ? error.message : String(error),
      });
      throw error;
    }
  }

  /** Logs how an action that runs on after its request (a rebuild) ended. */
  finished(record: ActionRecord, error?: unknown): void {
    const at = new Date().toISOString();
    if (error === undefined) {
      this.#logger.info(`console action ${record.action} by ${record.who} finished`, {
        ...record,
        at,
        outcome: 'finished',
      });
    } else {
      this.#logger.error(`console action ${record.action} by ${record.who} failed`, {
        ...record,
        at,
        outcome: 'failed',
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }

  #authorize(authorization: string | undefined): string {
    if (!this.enabled) {
      throw new ActionRefused(
        'read-only',
        'This console is read-only: it was started without tokens (annals console --allow-actions allows actions).',
      );
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (match === null) {
      throw new ActionRefused(
        'token',
        'Actions need a token: send the header Authorization: Bearer <token> (the console prints its token when it starts).',
      );
    }
    const given = digest(match[1]!);
    const found = this.#tokens.find((t) => timingSafeEqual(t.digest, given));
    if (found === undefined)
      throw new ActionRefused('token', "The token sent is not one of this console's tokens.");
    return found.label;
  }
}

function digest(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}
