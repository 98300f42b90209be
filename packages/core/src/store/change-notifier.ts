/**
 * A counter of "something was appended" signals that readers can wait on without missing a signal
 * sent between their last read and their wait: take `version` before reading, then `wait(version)`
 * returns at once if anything happened since.
 */
export class ChangeNotifier {
  #version = 0;
  readonly #waiters = new Set<() => void>();

  /** Increases with every {@link notify}. */
  get version(): number {
    return this.#version;
  }

  /** Signals a change and wakes every waiter. */
  notify(): void {
    this.#version++;
    if (this.#waiters.size === 0) return;
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const wake of waiters) wake();
  }

  /**
   * Resolves when the version moves past `since`, when `timeoutMs` passes, or when `signal` aborts;
   * whichever comes first. Never rejects.
   */
  wait(since: number, options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<void> {
    if (this.#version !== since || options.signal?.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const done = () => {
        if (timer !== undefined) clearTimeout(timer);
        options.signal?.removeEventListener('abort', done);
        this.#waiters.delete(done);
        resolve();
      };
      this.#waiters.add(done);
      options.signal?.addEventListener('abort', done, { once: true });
      if (options.timeoutMs !== undefined && Number.isFinite(options.timeoutMs)) {
        timer = setTimeout(done, options.timeoutMs);
      }
    });
  }
}
