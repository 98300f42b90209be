/**
 * A small seeded pseudo-random generator (mulberry32), so a failing run can be replayed: each test
 * prints its seed in its failure messages, and `STRESS_SEED=<n>` reruns with the same choices.
 */
export class SeededRandom {
  readonly seed: number;
  #state: number;

  constructor(seed: number = Number(process.env.STRESS_SEED ?? Math.floor(Math.random() * 2 ** 31))) {
    this.seed = seed;
    this.#state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
}
