import { InvalidArgument } from '../../errors/store-errors.js';
import type { CommandMiddleware } from '../command-bus.js';

/** What an {@link IdempotencyStore} keeps of a command that succeeded. */
export interface IdempotencyRecord {
  readonly commandType: string;
  /** The validated payload as JSON: a repeated id must come with the same command. */
  readonly payload: string;
  /** What the handler returned. */
  readonly result: unknown;
}

/** Where {@link idempotency} remembers the commands that succeeded, by command id. */
export interface IdempotencyStore {
  get(commandId: string): Promise<IdempotencyRecord | undefined>;
  set(commandId: string, record: IdempotencyRecord): Promise<void>;
}

/** An {@link IdempotencyStore} in process memory (records live as long as the object). */
export class InMemoryIdempotencyStore implements IdempotencyStore {
  readonly #records = new Map<string, IdempotencyRecord>();

  async get(commandId: string): Promise<IdempotencyRecord | undefined> {
    return this.#records.get(commandId);
  }

  async set(commandId: string, record: IdempotencyRecord): Promise<void> {
    this.#records.set(commandId, record);
  }

  /** How many commands are remembered. */
  get size(): number {
    return this.#records.size;
  }
}

/** Options of {@link idempotency}. */
export interface IdempotencyOptions {
  /** Default: a new {@link InMemoryIdempotencyStore}. */
  readonly store?: IdempotencyStore;
}

/**
 * Makes commands idempotent by `commandId`: a command whose id already succeeded is not run again;
 * the first result is returned and nothing is appended. A repeat that arrives while the first run is
 * still going waits for it. A failed command is not remembered, so it can be retried. Reusing an id
 * for another command (other type or payload) is refused with `InvalidArgument`.
 *
 * Put it outside `retryOnConcurrency` (`use` it first) so a retried command is remembered once.
 *
 * @example
 * ```ts
 * bus.use(idempotency());
 * await bus.execute(Deposit, data, { commandId: 'deposit-42' });
 * await bus.execute(Deposit, data, { commandId: 'deposit-42' }); // first result, no new event
 * ```
 */
export function idempotency(options: IdempotencyOptions = {}): CommandMiddleware {
  const store = options.store ?? new InMemoryIdempotencyStore();
  const running = new Map<string, Promise<unknown>>();
  return async (execution, next) => {
    const { commandId, commandType } = execution;
    const payload = fingerprint(execution.data);
    const check = (record: IdempotencyRecord): unknown => {
      if (record.commandType !== commandType || record.payload !== payload) {
        throw new InvalidArgument(
          `Command id ${commandId} was already used by ${record.commandType} ${record.payload}; it cannot be reused for ${commandType} ${payload}. A repeated command must be identical.`,
        );
      }
      return record.result;
    };
    for (;;) {
      const recorded = await store.get(commandId);
      if (recorded !== undefined) return check(recorded);
      const inFlight = running.get(commandId);
      if (inFlight === undefined) break;
      await inFlight.catch(() => undefined);
    }
    const run = (async () => {
      const result = await next();
      await store.set(commandId, { commandType, payload, result });
      return result;
    })();
    running.set(commandId, run);
    try {
      return await run;
    } finally {
      running.delete(commandId);
    }
  };
}

/** The payload as JSON (bigints as strings), to tell a true repeat from a reused id. */
function fingerprint(data: unknown): string {
  return (
    JSON.stringify(data, (_key, value) => (typeof value === 'bigint' ? `${value}n` : value)) ?? 'undefined'
  );
}
