import type { RecordedEvent, Subscription } from '@annals/core';

/**
 * Drains a subscription in the background into `events`, so a test can check later what one
 * subscriber received, in the order it received it. An error that ends the subscription is kept in
 * `error` (and reported by {@link EventCollector.waitFor}) instead of being lost.
 */
export class EventCollector {
  readonly name: string;
  readonly events: RecordedEvent[] = [];
  error: unknown;
  readonly #subscription: Subscription;
  readonly #done: Promise<void>;
  #wake: (() => void) | undefined;

  constructor(name: string, subscription: Subscription) {
    this.name = name;
    this.#subscription = subscription;
    this.#done = (async () => {
      try {
        for await (const event of subscription) {
          this.events.push(event);
          this.#wake?.();
        }
      } catch (error) {
        this.error = error;
      } finally {
        this.#wake?.();
      }
    })();
  }

  /** Positions received so far, in order of receipt. */
  get positions(): bigint[] {
    return this.events.map((e) => e.position);
  }

  /** Ids received so far. */
  get ids(): Set<string> {
    return new Set(this.events.map((e) => e.id));
  }

  /**
   * Resolves true as soon as `predicate` holds for what was received, false when `boundMs` passes
   * first or the subscription ends. The bound only limits how long a broken store can hang a test;
   * callers assert on the content, never on the time taken.
   */
  async waitFor(predicate: (events: readonly RecordedEvent[]) => boolean, boundMs: number): Promise<boolean> {
    const deadline = Date.now() + boundMs;
    while (!predicate(this.events)) {
      if (this.error !== undefined || this.#subscription.stopped) return predicate(this.events);
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 250));
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
    return true;
  }

  /** Waits until every id of `ids` has been received (see {@link waitFor}). */
  waitForIds(ids: Iterable<string>, boundMs: number): Promise<boolean> {
    const wanted = [...ids];
    return this.waitFor(() => {
      const seen = this.ids;
      return wanted.every((id) => seen.has(id));
    }, boundMs);
  }

  /** Stops the subscription and waits for the background loop to end. */
  async stop(): Promise<void> {
    await this.#subscription.stop();
    await this.#done;
  }
}
