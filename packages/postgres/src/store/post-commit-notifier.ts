/**
 * Sends the store's NOTIFY after appends have committed, outside their transactions.
 *
 * PostgreSQL serialises the commits of transactions that notify (they share the notification
 * queue's lock), so a `pg_notify` inside every append would take away group commit from concurrent
 * writers. Instead each committed append signals this notifier, which keeps at most one small
 * `SELECT pg_notify(...)` in flight and coalesces the appends that commit meanwhile into one more.
 * A notifying statement without writes has no transaction id and forces no WAL flush, so it is cheap.
 * A failed notification is not an error: subscribers elsewhere fall back to polling.
 */
export class PostCommitNotifier {
  readonly #send: () => Promise<unknown>;
  #inFlight: Promise<void> | undefined;
  #pending = false;
  #closed = false;

  constructor(send: () => Promise<unknown>) {
    this.#send = send;
  }

  /** Asks for a notification soon; appends that commit while one is in flight share the next. */
  signal(): void {
    if (this.#closed) return;
    if (this.#inFlight !== undefined) {
      this.#pending = true;
      return;
    }
    this.#inFlight = this.#run();
  }

  async #run(): Promise<void> {
    do {
      this.#pending = false;
      try {
        await this.#send();
      } catch {
        // Subscribers in other processes poll; a lost notification only delays them.
      }
    } while (this.#pending && !this.#closed);
    this.#inFlight = undefined;
  }

  /** Sends what is pending, then accepts no more signals. */
  async close(): Promise<void> {
    await this.#inFlight;
    this.#closed = true;
  }
}
