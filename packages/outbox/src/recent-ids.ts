/**
 * The last `capacity` ids added, forgetting the oldest first: what an outbox remembers of the
 * messages the broker confirmed in this process.
 */
export class RecentIds {
  readonly #capacity: number;
  readonly #ids = new Set<string>();

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  has(id: string): boolean {
    return this.#ids.has(id);
  }

  add(id: string): void {
    if (this.#ids.has(id)) return;
    this.#ids.add(id);
    if (this.#ids.size > this.#capacity) {
      // A Set iterates in insertion order: the first id is the oldest.
      this.#ids.delete(this.#ids.values().next().value!);
    }
  }
}
