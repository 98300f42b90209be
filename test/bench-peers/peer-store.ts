/**
 * What the side-by-side needs of a store, implemented once for Annals and once for Emmett, so every
 * workload runs the same code against both.
 */

/** An event as the workloads write it: the same type and payload on both sides. */
export interface PeerEvent {
  readonly type: string;
  readonly data: DepositData;
}

/**
 * The payload (about 130 bytes of JSON); `key` is unique per event, for the lost/duplicated check.
 * A type alias, not an interface, so that it fits Emmett's `Record<string, unknown>` event data.
 */
export type DepositData = {
  readonly key: string;
  readonly accountId: string;
  readonly amount: number;
  readonly currency: string;
  readonly note: string;
};

/** A reader of the global log running in the background, counting what it is handed. */
export interface GlobalReader {
  /** Keys of the events handed out, in delivery order (duplicates kept). */
  readonly seen: string[];
  /** Stops reading; resolves when the reader has stopped. */
  stop(): Promise<void>;
}

/** One store under test. */
export interface PeerStore {
  readonly name: string;
  /**
   * True when the store promises every reader of its global log every committed event: the check
   * then waits until each reader has them all. False: a reader may skip events for good, and only
   * a quiet period can end the wait.
   */
  readonly deliversEveryEvent: boolean;
  /** Appends `events` to `stream` in one call (one transaction on both stores). */
  append(stream: string, events: readonly PeerEvent[]): Promise<void>;
  /** Reads a whole stream; returns how many events it had. */
  readStream(stream: string): Promise<number>;
  /** Reads the whole global log from the start; returns how many events it had. */
  readAll(): Promise<number>;
  /** A loop of the store's global read, each read starting where the last ended (no subscription). */
  pollGlobal(): GlobalReader;
  /** The store's own catch-up-then-live consumer of the global log. */
  subscribeGlobal(): Promise<GlobalReader>;
  /** Rows in the store's events table, by SQL (what was committed, whatever a reader returns). */
  countStored(): Promise<number>;
  /** Empties the store: a fresh schema, or truncated tables with the position sequence reset. */
  reset(): Promise<void>;
  /** Updates the planner statistics of the store's tables. */
  analyze(): Promise<void>;
  close(): Promise<void>;
}

/** The `i`-th deposit of a run, keyed by `prefix`. */
export function deposit(prefix: string, i: number): PeerEvent {
  return {
    type: 'BenchDeposited',
    data: {
      key: `${prefix}-${i}`,
      accountId: `account-${String(i % 100_000).padStart(6, '0')}`,
      amount: 1_000 + (i % 997),
      currency: 'EUR',
      note: 'salary for November, paid by the benchmark employer',
    },
  };
}

/** `size` deposits numbered from `from`. */
export function deposits(prefix: string, from: number, size: number): PeerEvent[] {
  return Array.from({ length: size }, (_, k) => deposit(prefix, from + k));
}

/** The unique key of a workload event's payload. */
export const keyOf = (data: unknown) => (data as DepositData).key;

/**
 * A {@link GlobalReader} that runs `readNext` in a loop until stopped: each call reads on from where
 * the last one ended, pushes the keys it got onto `seen` and returns how many (none: a short pause).
 */
export function pollingReader(readNext: (seen: string[]) => Promise<number>): GlobalReader {
  const seen: string[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) if ((await readNext(seen)) === 0) await sleep(5);
  })();
  return {
    seen,
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
