/**
 * Sends the store's NOTIFY after appends have committed, outside their transactions.
 *
 * PostgreSQL serialises the commits of transactions that notify (they share the notification
 * queue's lock), so a `pg_notify` inside every append would take away group commit from concurrent
 * writers. Instead each committed append signals this notifier, which waits `delayMs` for more
 * appends to commit, then sends one small `SELECT pg_notify(...)` for all of them; appends that commit
 * while it is in flight share the next one. A notifying statement without writes forces no WAL
 * flush, so it is cheap, but at one per append it would still double the statements of sequential
 * appends. A failed notification is not an error: subscribers elsewhere fall back to polling.
 */
export class PostCommitNotifier {
  readonly #send: () => Promise<unknown>;
  readonly #delayMs: number;
  #running: Promise<void> | undefined;
  #pending = false;
  #closed = false;
  #closing = false;
  #timer: NodeJS.Timeout | undefined;
  #wake: (() => void) | undefined;

  /** @param delayMs how long a first signal waits for others to share its notification (0: none). */
  constructor(send: () => Promise<unknown>, delayMs = 0) {
    this.#send = send;
    this.#delayMs = delayMs;
  }

  /** Asks for a notification soon; appends that commit before it is sent share it. */
  signal(): void {
    if (this.#closed) return;
    this.#pending = true;
    this.#running ??= this.#run();
  }

  async #run(): Promise<void> {
    while (this.#pending && !this.#closed) {
      if (this.#delayMs > 0 && !this.#closing) await this.#gather();
      this.#pending = false;
      try {
        await this.#send();
      } catch {
        // Subscribers in other processes poll; a lost notification only delays them.
      }
    }
    this.#running = undefined;
  }

  /** Waits `delayMs`, or less when the notifier closes meanwhile. */
  #gather(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#wake = resolve;
      this.#timer = setTimeout(resolve, this.#delayMs);
    }).then(() => {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#wake = undefined;
    });
  }

  /** Sends what is pending at once, then accepts no more signals. */
  async close(): Promise<void> {
    this.#closing = true;
    this.#wake?.();
    await this.#running;
    this.#closed = true;
  }
}
