/**
 * The next page of a read, asked for before the reader needs it: the database fetches it while the
 * reader decodes and hands out the current page. A page read ahead for another cursor or limit than
 * the one finally wanted is dropped, and so is a page nobody takes (with its error, if it failed).
 */
export class ReadAhead<T> {
  #key: string | undefined;
  #page: Promise<T> | undefined;

  /** Whether a page is read ahead. */
  get started(): boolean {
    return this.#page !== undefined;
  }

  /** Starts reading the page `key` (a cursor and a limit, say) now. */
  start(key: string, read: () => Promise<T>): void {
    const page = read();
    // Awaited by take(), which sees the error; left untaken, the error must not go unhandled.
    page.catch(() => {});
    this.#key = key;
    this.#page = page;
  }

  /** The page `key`: the one read ahead if it is that one, else read now. */
  take(key: string, read: () => Promise<T>): Promise<T> {
    const page = this.#page;
    const ahead = this.#key === key ? page : undefined;
    this.#page = undefined;
    this.#key = undefined;
    return ahead ?? read();
  }
}
