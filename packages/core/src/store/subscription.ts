import { InvalidArgument } from '../errors/store-errors.js';
import type { RecordedEvent } from '../events/event-types.js';
import { instruments } from '../observability/instruments.js';
import { consoleLogger, type Logger } from '../observability/logger.js';
import { ATTR } from '../observability/names.js';
import { ChangeNotifier } from './change-notifier.js';

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

/** A callback for `subscribe`. May be async: the next event waits for it. */
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
  /**
   * For a page read while the store closes (`draining`): false when the page may not reach
   * everything appended before `close()` began (a read failed, or the store's own last append is not
   * readable yet), so the subscription reads again. Default true.
   */
  readonly caughtUp?: boolean;
}

/** What a {@link PullSubscription} tells its source with each read. */
export interface PullReadOptions {
  /** The store is closing: the subscription ends at the first page that is caught up and not `more`. */
  readonly draining: boolean;
}

/**
 * What a {@link PullSubscription} reads from: a stateful reader that remembers how far it got, and
 * the notifier that tells it something new may be there.
 */
export interface PullSource<E> {
  /** Reads the next page after everything returned so far. */
  next(options: PullReadOptions): Promise<PullPage<E>>;
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

/** A page and how it was read. */
interface Read<E> {
  readonly page: PullPage<E>;
  /** The read began after {@link PullSubscription.drain}. */
  readonly draining: boolean;
  /** The notifier's version before the read. */
  readonly seen: number;
}

/** The `done` of each callback delivery, by the subscription it iterates: drain() waits for the handler. */
const callbackDeliveries = new WeakMap<object, Promise<void>>();

/**
 * The catch-up-then-live loop shared by every adapter: read pages until the source is drained, then
 * wait for a notification (or the idle timeout) and read again. Exposed so adapters reuse it; a
 * store's `close()` calls {@link drain} on each.
 */
export class PullSubscription<E> implements Subscription<E> {
  readonly #source: PullSource<E>;
  readonly #abort = new AbortController();
  readonly #onEnd: ((sub: PullSubscription<E>) => void) | undefined;
  /** Every step of the loop (a page handed out, the end): drain() re-checks on each. */
  readonly #progress = new ChangeNotifier();
  #iterating = false;
  #started = false;
  #ended = false;
  #stopped = false;
  #cleanup: Promise<void> | undefined;
  /** Set by drain(): end once caught up with what was appended before it. */
  #draining = false;
  /** The last event of the final page of a drain is handed out: nothing appended before it is left. */
  #handedOut = false;
  /** The loop handed out the last event of a page and waits for its consumer to ask for more. */
  #atPageEnd = false;
  /** A page drain() read on behalf of a consumer at a page end; the loop hands it out next. */
  #prefetched: Promise<Read<E>> | undefined;
  /** Wakes the loop's wait for a notification. */
  #wake: (() => void) | undefined;

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
      this.#progress.notify();
      this.#cleanup = Promise.resolve(this.#source.onStop?.()).then(() => undefined);
    }
    return this.#cleanup;
  }

  /**
   * Lets the subscription hand out everything appended before this call, then stops it: resolves
   * once its consumer has been given the last such event (a callback of `subscribe` has returned
   * from it), or after `timeoutMs`, whichever comes first. A subscription never iterated stops at
   * once. Stores call it from `close()`.
   */
  async drain(timeoutMs: number): Promise<void> {
    if (this.#cleanup !== undefined || !this.#iterating || timeoutMs <= 0) return this.stop();
    this.#draining = true;
    this.#wake?.();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    const delivered = (async () => {
      await this.#delivered();
      await this.stop();
      await callbackDeliveries.get(this)?.catch(() => {});
    })();
    try {
      await Promise.race([delivered, deadline]);
    } finally {
      clearTimeout(timer);
    }
    await this.stop();
  }

  /** Resolves when everything appended before drain() has been handed out, or the loop ended. */
  async #delivered(): Promise<void> {
    const source = this.#source;
    let emptyReads = 0;
    for (;;) {
      const step = this.#progress.version;
      if (this.#ended || this.#stopped || this.#handedOut) return;
      // The consumer holds the last event of a page (or has not asked for one yet): read on its behalf.
      if ((this.#atPageEnd || !this.#started) && this.#prefetched === undefined) {
        const probe = this.#readPage();
        this.#prefetched = probe;
        const { page, seen } = await probe;
        if (page.events.length === 0 && !page.more) {
          if (this.#prefetched === probe) this.#prefetched = undefined; // nothing to hand out
          if (page.caughtUp !== false) return;
          const timeout = source.idleTimeoutMs;
          await source.notifier.wait(seen, {
            signal: this.#abort.signal,
            timeoutMs: typeof timeout === 'function' ? timeout(++emptyReads) : timeout,
          });
          continue;
        }
      }
      await this.#progress.wait(step, { signal: this.#abort.signal });
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<E> {
    if (this.#iterating) throw new InvalidArgument('A subscription can be iterated only once.');
    this.#iterating = true;
    return this.#run();
  }

  /** The next page: one drain() read ahead, else a new read. */
  #read(): Promise<Read<E>> {
    const prefetched = this.#prefetched;
    if (prefetched === undefined) return this.#readPage();
    this.#prefetched = undefined;
    return prefetched;
  }

  async #readPage(): Promise<Read<E>> {
    const draining = this.#draining;
    const seen = this.#source.notifier.version;
    return { page: await this.#source.next({ draining }), draining, seen };
  }

  async *#run(): AsyncGenerator<E> {
    const source = this.#source;
    let emptyReads = 0;
    this.#started = true;
    try {
      while (!this.#stopped) {
        const { page, draining, seen } = await this.#read();
        // The last page of a drain: everything appended before it is in this page or was handed out.
        const final = draining && !page.more && page.caughtUp !== false;
        for (const [i, event] of page.events.entries()) {
          if (this.#stopped) return;
          this.#atPageEnd = i === page.events.length - 1;
          if (this.#atPageEnd && final) this.#handedOut = true;
          this.#progress.notify();
          yield event;
          this.#atPageEnd = false;
        }
        if (this.#stopped || final) return;
        if (page.events.length > 0 || page.more) {
          emptyReads = 0;
          if (page.more) continue;
        } else {
          emptyReads++;
        }
        // A drain began during this read, or read ahead: read again at once.
        if ((this.#draining && !draining) || this.#prefetched !== undefined) continue;
        const timeout = source.idleTimeoutMs;
        await this.#wait(seen, typeof timeout === 'function' ? timeout(emptyReads) : timeout);
      }
    } finally {
      this.#ended = true;
      this.#progress.notify();
      await this.stop();
    }
  }

  /** Waits for a notification after `seen`, the timeout, stop() or drain(). */
  async #wait(seen: number, timeoutMs: number | undefined): Promise<void> {
    const wake = new AbortController();
    const abort = () => wake.abort();
    this.#abort.signal.addEventListener('abort', abort, { once: true });
    this.#wake = abort;
    try {
      await this.#source.notifier.wait(seen, { signal: wake.signal, timeoutMs });
    } finally {
      this.#wake = undefined;
      this.#abort.signal.removeEventListener('abort', abort);
    }
    if (!this.#stopped) {
      instruments()?.wakeups.add(1, this.#source.notifier.version !== seen ? NOTIFIED : POLLED);
    }
  }
}

/** The attributes of a wake-up: by a notification (an append), or by the idle timeout (a poll). */
const NOTIFIED = Object.freeze({ [ATTR.wakeupReason]: 'notified' });
const POLLED = Object.freeze({ [ATTR.wakeupReason]: 'poll' });

/**
 * Runs `handler` for each event of `subscription`, one at a time. Used by every store's
 * `subscribe(...)`. A handler error ends delivery: it goes to `onError` when given, otherwise to
 * `logger.error` (default {@link consoleLogger}), and `done` rejects with it.
 */
export function deliverToCallback<E>(
  subscription: Subscription<E>,
  handler: SubscriptionHandler<E>,
  onError?: (error: unknown) => void,
  logger: Logger = consoleLogger,
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
      else logger.error({ err: error }, 'subscription handler failed; delivery stopped.');
      throw error;
    } finally {
      await subscription.stop();
    }
  })();
  done.catch(() => {}); // the error is reported above; `done` stays rejected for those who await it
  callbackDeliveries.set(subscription, done);
  return {
    done,
    async stop() {
      await subscription.stop();
      await current.catch(() => {});
    },
  };
}
