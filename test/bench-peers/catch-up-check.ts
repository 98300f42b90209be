/**
 * Catch-up while writing: readers consume a store's global log while concurrent writers append to
 * it; once the writers are done and the readers have gone quiet, every key read is compared with
 * what the writers appended (an append that resolved), per reader.
 */
import { deposit, type GlobalReader, type PeerEvent, type PeerStore, sleep } from './peer-store.js';

export interface CheckSizes {
  /** Concurrent writers. */
  readonly writers: number;
  /** Appends per writer; each append carries 1 to 5 events. */
  readonly appends: number;
  /**
   * For a store that may skip events for good: how long a reader may go without a new event, after
   * the writers are done, before it is stopped.
   */
  readonly quietMs: number;
}

/** What one reader got, against what was appended. */
export interface ReaderCount {
  readonly reader: string;
  readonly read: number;
  /** Appended events the reader never got. */
  readonly lost: number;
  /** Deliveries beyond the first of an event. */
  readonly duplicated: number;
  /** Keys read that were never appended (must be 0). */
  readonly unknown: number;
}

export interface CheckResult {
  readonly store: string;
  readonly appended: number;
  /** Rows in the store's events table afterwards, counted in SQL. */
  readonly stored: number;
  readonly seconds: number;
  readonly readers: ReaderCount[];
}

function count(reader: string, seen: readonly string[], appended: ReadonlySet<string>): ReaderCount {
  const times = new Map<string, number>();
  for (const key of seen) times.set(key, (times.get(key) ?? 0) + 1);
  let lost = 0;
  for (const key of appended) if (!times.has(key)) lost++;
  let duplicated = 0;
  let unknown = 0;
  for (const [key, n] of times) {
    duplicated += n - 1;
    if (!appended.has(key)) unknown++;
  }
  return { reader, read: seen.length, lost, duplicated, unknown };
}

/** Whether every reader has every one of the `total` appended events. */
const complete = (readers: readonly GlobalReader[], total: number) =>
  readers.every((r) => new Set(r.seen).size >= total);

/**
 * Waits until every reader has every appended event. Only stops a reader that never gets there from
 * hanging the run: it then counts what it lost.
 */
async function waitComplete(readers: readonly GlobalReader[], total: number): Promise<void> {
  const bound = performance.now() + 300_000;
  while (!complete(readers, total) && performance.now() < bound) await sleep(50);
}

/** Waits until no reader has got a new event for `quietMs`, or all have every appended event. */
async function waitQuiet(readers: readonly GlobalReader[], total: number, quietMs: number): Promise<void> {
  let last = readers.map((r) => r.seen.length);
  let quietSince = performance.now();
  while (performance.now() - quietSince < quietMs) {
    if (complete(readers, total)) return;
    await sleep(50);
    const now = readers.map((r) => r.seen.length);
    if (now.some((n, i) => n !== last[i])) quietSince = performance.now();
    last = now;
  }
}

/** Runs the check on one store (reset first). */
export async function runCatchUpCheck(store: PeerStore, sizes: CheckSizes): Promise<CheckResult> {
  await store.reset();
  const started = performance.now();
  const poller = store.pollGlobal();
  const subscriber = await store.subscribeGlobal();
  const appended = new Set<string>();
  const writer = async (w: number) => {
    let n = 0;
    for (let i = 0; i < sizes.appends; i++) {
      const size = 1 + ((w + i) % 5);
      const events: PeerEvent[] = [];
      for (let k = 0; k < size; k++) events.push(deposit(`check-${w}`, n++));
      // A handful of streams per writer: new streams and existing ones.
      await store.append(`check-${w}-${i % 7}`, events);
      for (const e of events) appended.add(e.data.key);
    }
  };
  await Promise.all(Array.from({ length: sizes.writers }, (_, w) => writer(w)));
  // A store that promises every event is waited for until its readers have them all (a slow reader
  // on a busy machine is not a lost event); for one that may skip events, a quiet period ends it.
  if (store.deliversEveryEvent) await waitComplete([poller, subscriber], appended.size);
  else await waitQuiet([poller, subscriber], appended.size, sizes.quietMs);
  await Promise.all([poller.stop(), subscriber.stop()]);
  return {
    store: store.name,
    appended: appended.size,
    stored: await store.countStored(),
    seconds: (performance.now() - started) / 1000,
    readers: [
      count('global read in a loop', poller.seen, appended),
      count('subscription', subscriber.seen, appended),
    ],
  };
}
