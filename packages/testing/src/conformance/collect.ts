import type { ConformanceContext } from './conformance-types.js';

/** How long conformance cases wait for an expected delivery when the runner sets no other limit. */
export const DEFAULT_DELIVERY_TIMEOUT_MS = 5_000;

/** The delivery timeout of a case: the runner's `deliveryTimeoutMs`, else {@link DEFAULT_DELIVERY_TIMEOUT_MS}. */
export function deliveryTimeout(context: Pick<ConformanceContext, 'deliveryTimeoutMs'>): number {
  return context.deliveryTimeoutMs ?? DEFAULT_DELIVERY_TIMEOUT_MS;
}

interface Reader<E> {
  readonly iterator: AsyncIterator<E>;
  /** A `next()` that a timeout left unanswered; the following read awaits it first, so nothing is lost. */
  pending: Promise<IteratorResult<E>> | undefined;
}

const readers = new WeakMap<AsyncIterable<unknown>, Reader<unknown>>();

function readerOf<E>(source: AsyncIterable<E>): Reader<E> {
  let reader = readers.get(source) as Reader<E> | undefined;
  if (reader === undefined) {
    reader = { iterator: source[Symbol.asyncIterator](), pending: undefined };
    readers.set(source, reader as Reader<unknown>);
  }
  return reader;
}

const TIMED_OUT = Symbol('timed out');

async function nextBefore<E>(
  reader: Reader<E>,
  deadline: number,
): Promise<IteratorResult<E> | typeof TIMED_OUT> {
  if (reader.pending === undefined) {
    reader.pending = reader.iterator.next();
    reader.pending.catch(() => {}); // awaited below; this only keeps an abandoned read from being "unhandled"
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), Math.max(0, deadline - Date.now()));
  });
  try {
    const result = await Promise.race([reader.pending, timeout]);
    if (result !== TIMED_OUT) reader.pending = undefined;
    return result;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Reads the next `count` events of a subscription (or any async iterable), failing with a message
 * that says how many of them arrived when they do not all arrive within `timeoutMs`, or when the
 * iteration ends first. Later calls on the same subscription continue where this one stopped (the
 * iterator is kept, and a read left pending by a timeout is not lost), so a case can alternate
 * between appending and collecting.
 *
 * @example
 * ```ts
 * const sub = store.subscribeToStream('cart-1');
 * const history = await collect(sub, 3);     // the 3 stored events
 * await store.append('cart-1', [event]);
 * const [live] = await collect(sub, 1);      // then the live one
 * ```
 */
export async function collect<E>(
  source: AsyncIterable<E>,
  count: number,
  timeoutMs: number = DEFAULT_DELIVERY_TIMEOUT_MS,
): Promise<E[]> {
  const reader = readerOf(source);
  const deadline = Date.now() + timeoutMs;
  const events: E[] = [];
  while (events.length < count) {
    const result = await nextBefore(reader, deadline);
    if (result === TIMED_OUT) {
      throw new Error(
        `collect: only ${events.length} of ${count} expected events arrived within ${timeoutMs} ms.`,
      );
    }
    if (result.done === true) {
      throw new Error(`collect: the iteration ended after ${events.length} of ${count} expected events.`);
    }
    events.push(result.value);
  }
  return events;
}

/**
 * Reads events until one satisfies `isLast` (it is included), failing with a clear message when it
 * does not arrive within `timeoutMs`, when the iteration ends first, or after `maxEvents` events.
 * Cases append a known last event (a fence) and compare everything read up to it with the stored
 * log: a duplicate or a missing event shows without waiting for a count that never comes.
 */
export async function collectUntil<E>(
  source: AsyncIterable<E>,
  isLast: (event: E) => boolean,
  options: { readonly timeoutMs?: number; readonly maxEvents?: number } = {},
): Promise<E[]> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_DELIVERY_TIMEOUT_MS;
  const maxEvents = options.maxEvents ?? 10_000;
  const reader = readerOf(source);
  const deadline = Date.now() + timeoutMs;
  const events: E[] = [];
  for (;;) {
    const result = await nextBefore(reader, deadline);
    if (result === TIMED_OUT) {
      throw new Error(
        `collectUntil: the awaited last event did not arrive within ${timeoutMs} ms (${events.length} events arrived before it).`,
      );
    }
    if (result.done === true) {
      throw new Error(
        `collectUntil: the iteration ended after ${events.length} events, before the awaited last event.`,
      );
    }
    events.push(result.value);
    if (isLast(result.value)) return events;
    if (events.length >= maxEvents) {
      throw new Error(`collectUntil: ${maxEvents} events arrived without the awaited last event.`);
    }
  }
}

/**
 * Waits for the iteration of `source` to end (a `next()` that resolves `done`), failing when it
 * delivers another event instead or does not end within `timeoutMs`. Continues the iterator that
 * {@link collect} uses, so a `next()` left pending there is the one awaited here.
 */
export async function expectEnded(
  source: AsyncIterable<unknown>,
  timeoutMs: number = DEFAULT_DELIVERY_TIMEOUT_MS,
  what = 'the subscription',
): Promise<void> {
  const result = await nextBefore(readerOf(source), Date.now() + timeoutMs);
  if (result === TIMED_OUT) throw new Error(`${what} did not end within ${timeoutMs} ms.`);
  if (result.done !== true) {
    throw new Error(`${what} delivered another event instead of ending: ${describe(result.value)}.`);
  }
}

/** Reads an async iterable (a `readStream` or `readAll`) to the end into an array. */
export async function toArray<E>(source: AsyncIterable<E>): Promise<E[]> {
  const events: E[] = [];
  for await (const event of source) events.push(event);
  return events;
}

/** Resolves with `promise`, or rejects naming `what` did not happen when `timeoutMs` passes first. */
export async function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${timeoutMs} ms.`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Like `Promise.all`, but waits for every promise to settle before rejecting with the first error,
 * so no concurrent writer or reader of a case is still running (or rejects unobserved) when the
 * case fails and its store is closed.
 */
export async function settleAll<T extends readonly unknown[]>(
  ...promises: { readonly [K in keyof T]: Promise<T[K]> }
): Promise<T> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

function describe(value: unknown): string {
  if (typeof value === 'object' && value !== null && 'id' in value && 'type' in value) {
    const e = value as { id: unknown; type: unknown; revision?: unknown; position?: unknown };
    return `${String(e.type)} ${String(e.id)} (revision ${String(e.revision)}, position ${String(e.position)})`;
  }
  return String(value);
}
