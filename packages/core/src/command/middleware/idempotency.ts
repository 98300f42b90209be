import { InvalidArgument } from '../../errors/store-errors.js';
import type { CommandExecution, CommandMiddleware } from '../command-bus.js';
import { promiseOf } from '../promise-of.js';

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

/**
 * An {@link IdempotencyStore} that records a command's result in the same transaction as the
 * command's appends, so a crash at any point leaves both or neither: a retry appends once and
 * returns the first result. `@annals/postgres` ships one (`PostgresIdempotencyStore`).
 */
export interface TransactionalIdempotencyStore extends IdempotencyStore {
  /**
   * Returns the record of `commandId` when there is one; otherwise opens a transaction, runs `run`
   * (the rest of the pipeline and the handler) so that the repositories join it, records its result
   * and commits. When another process records the same id first, rolls back what `run` did and
   * returns that record. The returned record is the one that holds, from whichever run committed.
   */
  runOnce(
    commandId: string,
    command: Omit<IdempotencyRecord, 'result'>,
    run: () => Promise<unknown>,
  ): Promise<IdempotencyRecord>;
}

/** True when `store` records results in the transaction of the command's appends. */
function isTransactional(store: IdempotencyStore): store is TransactionalIdempotencyStore {
  return typeof (store as Partial<TransactionalIdempotencyStore>).runOnce === 'function';
}

/** Options of {@link InMemoryIdempotencyStore}. */
export interface InMemoryIdempotencyStoreOptions {
  /**
   * How many records the store keeps at most. When it is full, the older half is forgotten (a repeat
   * of a forgotten command runs again), so the records of at least the last `maxEntries / 2` commands
   * are always kept. Default 100,000; `Infinity` keeps every record as long as the store lives.
   */
  readonly maxEntries?: number;
}

/** @internal The record of `commandId` without a promise, when `store` is an unmodified {@link InMemoryIdempotencyStore}. */
let memoryRecords: (store: IdempotencyStore) => MemoryRecords | undefined;

interface MemoryRecords {
  get(commandId: string): IdempotencyRecord | undefined;
  set(commandId: string, record: IdempotencyRecord): void;
}

/**
 * An {@link IdempotencyStore} in process memory, bounded by `maxEntries` (default 100,000): when it
 * is full it forgets its older half, so memory stays bounded however many commands run.
 */
export class InMemoryIdempotencyStore implements IdempotencyStore {
  /** The records written since the last turnover, and those of the generation before. */
  #current = new Map<string, IdempotencyRecord>();
  #previous = new Map<string, IdempotencyRecord>();
  readonly #generationSize: number;

  static {
    memoryRecords = (store) =>
      store instanceof InMemoryIdempotencyStore &&
      store.get === InMemoryIdempotencyStore.prototype.get &&
      store.set === InMemoryIdempotencyStore.prototype.set
        ? { get: (id) => store.#get(id), set: (id, record) => store.#set(id, record) }
        : undefined;
  }

  constructor(options: InMemoryIdempotencyStoreOptions = {}) {
    const maxEntries = options.maxEntries ?? 100_000;
    if (maxEntries !== Number.POSITIVE_INFINITY && (!Number.isSafeInteger(maxEntries) || maxEntries < 2)) {
      throw new InvalidArgument(
        `InMemoryIdempotencyStore: maxEntries must be an integer >= 2 or Infinity, found ${String(maxEntries)}.`,
      );
    }
    this.#generationSize = maxEntries === Number.POSITIVE_INFINITY ? maxEntries : Math.floor(maxEntries / 2);
  }

  get(commandId: string): Promise<IdempotencyRecord | undefined> {
    return Promise.resolve(this.#get(commandId));
  }

  set(commandId: string, record: IdempotencyRecord): Promise<void> {
    this.#set(commandId, record);
    return Promise.resolve();
  }

  /** How many commands are remembered. */
  get size(): number {
    return this.#current.size + this.#previous.size;
  }

  #get(commandId: string): IdempotencyRecord | undefined {
    return this.#current.get(commandId) ?? this.#previous.get(commandId);
  }

  #set(commandId: string, record: IdempotencyRecord): void {
    this.#previous.delete(commandId);
    if (this.#current.size >= this.#generationSize && !this.#current.has(commandId)) {
      // Turnover: the generation before is forgotten, as a whole (no per-record bookkeeping).
      this.#previous = this.#current;
      this.#current = new Map();
    }
    this.#current.set(commandId, record);
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
 * Only a caller-given `commandId` makes a command idempotent: a command sent without one gets an id
 * the bus generates, which no later call can repeat, so it runs without a lookup and is not
 * remembered (sent twice, it runs twice). On a {@link TransactionalIdempotencyStore} it still runs
 * through `runOnce`, so its appends and its record stay one transaction.
 *
 * Put it outside `retryOnConcurrency` (`use` it first) so a retried command is remembered once;
 * with a {@link TransactionalIdempotencyStore}, inside it (`use` `retryOnConcurrency` first), so each
 * attempt is a transaction of its own.
 *
 * With a {@link TransactionalIdempotencyStore} the record is written in the transaction of the
 * command's appends (a crash anywhere leaves both or neither), and a repeat returns the first result
 * as the store kept it (as JSON for `PostgresIdempotencyStore`).
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
  const memory = memoryRecords(store);
  const transactional = isTransactional(store) ? store : undefined;
  return (execution, next) => {
    // An id the bus generated reaches no other execute call: nothing can repeat it, so the command
    // runs as it is, without a fingerprint or a lookup. A transactional store still runs it, since
    // it also makes the command's appends one transaction.
    if (execution.commandIdGenerated === true && transactional === undefined) return promiseOf(next);
    let payload: string;
    try {
      payload = fingerprint(execution.data);
    } catch (error) {
      return Promise.reject(error);
    }
    const attempt = { store, running, execution, next, payload };
    if (memory !== undefined) return runOnceInMemory(attempt, memory);
    return transactional === undefined ? runOnce(attempt) : runOnceInTransaction(attempt, transactional);
  };
}

/**
 * {@link runOnce} on the in-memory store, whose records are read and written without a promise: a
 * command that runs costs one promise here, a repeat none beyond its result.
 */
function runOnceInMemory(a: Attempt, memory: MemoryRecords): Promise<unknown> {
  const { commandId, commandType } = a.execution;
  try {
    const recorded = memory.get(commandId);
    if (recorded !== undefined) return Promise.resolve(check(a, recorded));
  } catch (error) {
    return Promise.reject(error);
  }
  const inFlight = a.running.get(commandId);
  if (inFlight !== undefined) {
    const again = () => runOnceInMemory(a, memory);
    return inFlight.then(again, again);
  }
  const run: Promise<unknown> = promiseOf(a.next).then(
    (result) => {
      if (a.running.get(commandId) === run) a.running.delete(commandId);
      memory.set(commandId, { commandType, payload: a.payload, result });
      return result;
    },
    (error: unknown) => {
      if (a.running.get(commandId) === run) a.running.delete(commandId);
      throw error;
    },
  );
  a.running.set(commandId, run);
  return run;
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
  return promiseOf(() => a.store.get(commandId)).then((recorded) => {
    if (recorded !== undefined) return check(a, recorded);
    const inFlight = a.running.get(commandId);
    // A repeat while the first run is going: wait for it, then look again.
    if (inFlight !== undefined) {
      return inFlight.then(
        () => runOnce(a),
        () => runOnce(a),
      );
    }
    const run = promiseOf(a.next).then((result) =>
      promiseOf(() => a.store.set(commandId, { commandType, payload: a.payload, result })).then(() => result),
    );
    a.running.set(commandId, run);
    run.then(
      () => settled(a, run),
      () => settled(a, run),
    );
    return run;
  });
}

/**
 * {@link runOnce} on a transactional store: the store looks up the record, runs the command and
 * records its result in one transaction. A repeat in this process waits for the first run.
 */
function runOnceInTransaction(a: Attempt, store: TransactionalIdempotencyStore): Promise<unknown> {
  const { commandId, commandType } = a.execution;
  const inFlight = a.running.get(commandId);
  if (inFlight !== undefined) {
    const again = () => runOnceInTransaction(a, store);
    return inFlight.then(again, again);
  }
  const run = promiseOf(() => store.runOnce(commandId, { commandType, payload: a.payload }, a.next)).then(
    (record) => check(a, record),
  );
  a.running.set(commandId, run);
  run.then(
    () => settled(a, run),
    () => settled(a, run),
  );
  return run;
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
