import type { Subscription } from '../store/subscription.js';

const TICK = Symbol('tick');

/** The next macrotask: everything a subscription can hand over without I/O arrives before it. */
function nextMacrotask(): Promise<typeof TICK> {
  return new Promise((resolve) => setImmediate(() => resolve(TICK)));
}

/**
 * Cuts a subscription into batches: waits for the first event, then takes every event that is
 * available without waiting for I/O, up to `max`. An unfinished read is kept for the next batch, so
 * no event is lost or read twice.
 */
export class BatchReader<E> {
  readonly #subscription: Subscription<E>;
  readonly #iterator: AsyncIterator<E>;
  #pending: Promise<IteratorResult<E>> | undefined;
  #done = false;

  constructor(subscription: Subscription<E>) {
    this.#subscription = subscription;
    this.#iterator = subscription[Symbol.asyncIterator]();
  }

  /**
   * The next batch; empty once the subscription has ended (stopped). A read error is thrown by the
   * call after the one that returns the events read before it.
   */
  async next(max: number): Promise<E[]> {
    if (this.#done) return [];
    const first = await this.#take();
    if (first.done) return [];
    const batch = [first.value];
    const tick = nextMacrotask();
    while (batch.length < max) {
      const pending = this.#iterator.next();
      let result: IteratorResult<E> | typeof TICK;
      try {
        result = await Promise.race([pending, tick]);
      } catch {
        // Hand over what was read; the next call rethrows the read error.
        this.#pending = pending;
        break;
      }
      if (result === TICK) {
        this.#pending = pending;
        break;
      }
      if (result.done) {
        this.#done = true;
        break;
      }
      batch.push(result.value);
    }
    return batch;
  }

  /** Stops the subscription; a read still in flight is dropped (its events were not applied). */
  async close(): Promise<void> {
    this.#done = true;
    await this.#subscription.stop();
    const pending = this.#pending;
    this.#pending = undefined;
    await pending?.catch(() => undefined);
  }

  async #take(): Promise<IteratorResult<E>> {
    const pending = this.#pending ?? this.#iterator.next();
    this.#pending = undefined;
    const result = await pending;
    if (result.done) this.#done = true;
    return result;
  }
}
