/**
 * Opens one LISTEN on a dedicated connection. Calls `onNotify` for every notification and `onLost`
 * once if the connection breaks; resolves with a function that stops listening and closes it.
 */
export type ListenFn = (
  onNotify: () => void,
  onLost: (error: unknown) => void,
) => Promise<() => Promise<void>>;

/**
 * A reference-counted LISTEN: the first subscription that needs it opens the dedicated connection,
 * the last one to stop closes it. A broken connection is reopened after `retryMs` while someone
 * still listens; `onNotify` also fires after each (re)connect, since notifications sent while
 * disconnected are lost. Subscriptions poll anyway, so a missing listener only delays them.
 */
export class NotificationListener {
  readonly #listen: ListenFn;
  readonly #onNotify: () => void;
  readonly #retryMs: number;
  #users = 0;
  /** Bumped on every start and stop, so a late connect of an older generation closes itself. */
  #generation = 0;
  #close: (() => Promise<void>) | undefined;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #opening: Promise<void> | undefined;

  constructor(listen: ListenFn, onNotify: () => void, options: { retryMs?: number } = {}) {
    this.#listen = listen;
    this.#onNotify = onNotify;
    this.#retryMs = options.retryMs ?? 1000;
  }

  /** True while a LISTEN connection is open. */
  get listening(): boolean {
    return this.#close !== undefined;
  }

  /** Registers one user; opens the connection for the first. Never throws (failures are retried). */
  acquire(): void {
    this.#users++;
    if (this.#users === 1) this.#open(++this.#generation);
  }

  /** Unregisters one user; closes the connection after the last. */
  async release(): Promise<void> {
    if (this.#users === 0) return;
    this.#users--;
    if (this.#users === 0) await this.#shutdown();
  }

  /** Closes the connection whatever the number of users. */
  async close(): Promise<void> {
    this.#users = 0;
    await this.#shutdown();
  }

  async #shutdown(): Promise<void> {
    this.#generation++;
    if (this.#retry !== undefined) clearTimeout(this.#retry);
    this.#retry = undefined;
    await this.#opening;
    const close = this.#close;
    this.#close = undefined;
    await close?.().catch(() => {});
  }

  #open(generation: number): void {
    const opening: Promise<void> = this.#listen(
      () => this.#onNotify(),
      () => this.#lost(generation),
    )
      .then(
        async (close) => {
          if (generation !== this.#generation) {
            await close().catch(() => {});
            return;
          }
          this.#close = close;
          this.#onNotify();
        },
        () => this.#lost(generation),
      )
      .finally(() => {
        if (this.#opening === opening) this.#opening = undefined;
      });
    this.#opening = opening;
  }

  #lost(generation: number): void {
    if (generation !== this.#generation || this.#users === 0) return;
    const close = this.#close;
    this.#close = undefined;
    close?.().catch(() => {});
    const next = ++this.#generation;
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      if (next === this.#generation && this.#users > 0) this.#open(next);
    }, this.#retryMs);
    this.#retry.unref?.();
  }
}
