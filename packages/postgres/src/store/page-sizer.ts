/**
 * Chooses how many rows the next page of a read asks for: at most `maxRows`, and fewer when recent
 * rows were large, so a page holds roughly `targetBytes` of stored event data. Large events then
 * cannot make one page take gigabytes of memory, and small events still travel 1000 at a time.
 */
export class PageSizer {
  readonly #maxRows: number;
  readonly #targetBytes: number;
  #limit: number;

  constructor(maxRows: number, targetBytes: number) {
    this.#maxRows = maxRows;
    this.#targetBytes = targetBytes;
    this.#limit = maxRows;
  }

  /** Rows to ask for next. */
  get limit(): number {
    return this.#limit;
  }

  /** Learns from a page of `rows` rows whose stored sizes add up to `bytes`. */
  record(rows: number, bytes: number): void {
    if (rows === 0) return;
    const average = Math.max(1, bytes / rows);
    this.#limit = Math.max(1, Math.min(this.#maxRows, Math.floor(this.#targetBytes / average)));
  }
}
