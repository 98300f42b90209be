import { InvalidArgument } from '../errors/store-errors.js';
import type { RecordedEvent } from '../events/event-types.js';
import type { ChangeNotifier } from './change-notifier.js';

/**
 * A catch-up then live stream of events: iterate it with `for await`, end it with `stop()` (or by
 * leaving the loop). Delivers each event exactly once, in order, with no gap at the switch from the
 * stored history to live events. It can be iterated once.
 */
export interface Subscription<E = RecordedEvent> extends AsyncIterable<E> {
  /** Ends the iteration (a pending `next()` resolves as done) and releases resources. Idempotent. */
  stop(): Promise<void>;
  /** True once stopped, by `stop()`, by leaving the loop, by an error, or by the store closing. */
  readonly stopped: boolean;
}

/** A callback for {@link EventStore.subscribe}. May be async: the next event waits for it. */
export type SubscriptionHandler<E = RecordedEvent> = (event: E) => void | Promise<void>;

/** The handle returned by `store.subscribe(...)`. */
export interface CallbackSubscription {
  /** Stops delivery; resolves once the current handler call (if any) has finished. */
  stop(): Promise<void>;
  /** Settles when delivery ends: resolves after `stop()`, rejects with the error that ended it. */
  readonly done: Promise<void>;
}

/**
 * One page from a {@link PullSource}. `more` says whether the source stopped because of its page
 * size (so the next page should be read at once) rather than because it reached the end.
 */
export interface PullPage<E> {
  readonly events: readonly E[];
  readonly more: boolean;
}

/**
 * What a {@link PullSubscription} reads from: a stateful reader that remembers how far it got, and
 * the notifier that tells it something new may be there.
 */
export interface PullSource<E> {
  /** Reads the next page after everything returned so far. */
  next(): Promise<PullPage<E>>;
  readonly notifier: ChangeNotifier;
  /**
   * Longest wait without a notification before reading again (milliseconds). Infinite for stores
   * whose notifier sees every append; a database store polls, since writers elsewhere may not notify.
   * A function receives how many consecutive empty reads there were, for adaptive polling.
   */
  readonly idleTimeoutMs?: number | ((emptyReads: number) => number);
  /** Called once when the subscription ends. */
  readonly onStop?: () => void | Promise<void>;
}

/**
 * The catch-up-then-live loop shared by every adapter: read pages until the source is drained, then
 * wait for a notification (or the idle timeout) and read again. Exposed so adapters reuse it.
 */
export class PullSubscription<E> implements Subscription<E> {
  readonly #source: PullSource<E>;
  readonly #abort = new AbortController();
  readonly #onEnd: ((sub: PullSubscription<E>) => void) | undefined;
  #iterating = false;
  #stopped = false;
  #cleanup: Promise<void> | undefined;

  constructor(source: PullSource<E>, onEnd?: (sub: PullSubscription<E>) => void) {
    this.#source = source;
    this.#onEnd = onEnd;
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  stop(): Promise<void> {
    if (this.#cleanup === undefined) {
      this.#stopped = true;
      this.#abort.abort();
      this.#onEnd?.(this);
      this.#cleanup = Promise.resolve(this.#source.onStop?.()).then(() => undefined);
    }
    return this.#cleanup;
  }

  [Symbol.asyncIterator](): AsyncIterator<E> {
    if (this.#iterating) throw new InvalidArgument('A subscription can be iterated only once.');
    this.#iterating = true;
    return this.#run();
  }

  async *#run(): AsyncGenerator<E> {
    const source = this.#source;
    const signal = this.#abort.signal;
    let emptyReads = 0;
    try {
      while (!this.#stopped) {
        const seen = source.notifier.version;
        const page = await source.next();
        for (const event of page.events) {
          if (this.#stopped) return;
          yield event;
        }
        if (this.#stopped) return;
        if (page.events.length > 0 || page.more) {
          emptyReads = 0;
          if (page.more) continue;
        } else {
          emptyReads++;
        }
        const timeout = source.idleTimeoutMs;
        await source.notifier.wait(seen, {
          signal,
          timeoutMs: typeof timeout === 'function' ? timeout(emptyReads) : timeout,
        });
      }
    } finally {
      await this.stop();
    }
  }
}

/**
 * Runs `handler` for each event of `subscription`, one at a time. Used by every store's
 * `subscribe(...)`. A handler error ends delivery: it goes to `onError` when given, otherwise it is
 * logged, and `done` rejects with it.
 */
export function deliverToCallback<E>(
  subscription: Subscription<E>,
  handler: SubscriptionHandler<E>,
  onError?: (error: unknown) => void,
): CallbackSubscription {
  let current: Promise<void> = Promise.resolve();
  const done = (async () => {
    try {
      for await (const event of subscription) {
        current = Promise.resolve(handler(event));
        await current;
      }
    } catch (error) {
      if (onError) onError(error);
      else console.error('[annals] subscription handler failed; delivery stopped:', error);
      throw error;
    } finally {
      await subscription.stop();
    }
  })();
  done.catch(() => {}); // the error is reported above; `done` stays rejected for those who await it
  return {
    done,
    async stop() {
      await subscription.stop();
      await current.catch(() => {});
    },
  };
}
