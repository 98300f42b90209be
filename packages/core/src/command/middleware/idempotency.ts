import { InvalidArgument } from '../../errors/store-errors.js';
import type { CommandExecution, CommandMiddleware } from '../command-bus.js';

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

  get(commandId: string): Promise<IdempotencyRecord | undefined> {
    return Promise.resolve(this.#records.get(commandId));
  }

  set(commandId: string, record: IdempotencyRecord): Promise<void> {
    this.#records.set(commandId, record);
    return Promise.resolve();
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
  return (execution, next) => {
    let payload: string;
    try {
      payload = fingerprint(execution.data);
    } catch (error) {
      return Promise.reject(error);
    }
    return runOnce({ store, running, execution, next, payload });
  };
}

interface Attempt {
  readonly store: IdempotencyStore;
  /** The commands running now, by id: a repeat waits for the first run. */
  readonly running: Map<string, Promise<unknown>>;
  readonly execution: CommandExecution;
  readonly next: () => Promise<unknown>;
  readonly payload: string;
}

/** Promise chains rather than `await`: fewer promises per command, the same steps. */
function runOnce(a: Attempt): Promise<unknown> {
  const { commandId, commandType } = a.execution;
  return call(() => a.store.get(commandId)).then((recorded) => {
    if (recorded !== undefined) return check(a, recorded);
    const inFlight = a.running.get(commandId);
    // A repeat while the first run is going: wait for it, then look again.
    if (inFlight !== undefined) {
      return inFlight.then(
        () => runOnce(a),
        () => runOnce(a),
      );
    }
    const run = call(a.next).then((result) =>
      call(() => a.store.set(commandId, { commandType, payload: a.payload, result })).then(() => result),
    );
    a.running.set(commandId, run);
    run.then(
      () => settled(a, run),
      () => settled(a, run),
    );
    return run;
  });
}

function settled(a: Attempt, run: Promise<unknown>): void {
  if (a.running.get(a.execution.commandId) === run) a.running.delete(a.execution.commandId);
}

function check(a: Attempt, record: IdempotencyRecord): unknown {
  const { commandId, commandType } = a.execution;
  if (record.commandType !== commandType || record.payload !== a.payload) {
    throw new InvalidArgument(
      `Command id ${commandId} was already used by ${record.commandType} ${record.payload}; it cannot be reused for ${commandType} ${a.payload}. A repeated command must be identical.`,
    );
  }
  return record.result;
}

/** `fn()` as a promise, also when it throws instead of rejecting. */
function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (error) {
    return Promise.reject(error);
  }
}

/** The payload as JSON (bigints as strings), to tell a true repeat from a reused id. */
function fingerprint(data: unknown): string {
  let json: string | undefined;
  try {
    // Without a replacer JSON.stringify takes its fast path; only a bigint makes it throw.
    json = JSON.stringify(data);
  } catch {
    json = JSON.stringify(data, (_key, value) => (typeof value === 'bigint' ? `${value}n` : value));
  }
  return json ?? 'undefined';
}
