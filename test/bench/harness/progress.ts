/**
 * The progress indicator, on stderr so that stdout holds only the final table. On a terminal the
 * current step is rewritten in place; in a log (CI) each step is one line.
 */
export class Progress {
  readonly #started = performance.now();
  readonly #out: NodeJS.WriteStream;
  readonly #live: boolean;
  #liveLength = 0;

  constructor(out: NodeJS.WriteStream = process.stderr) {
    this.#out = out;
    this.#live = out.isTTY === true;
  }

  /** A new phase (a backend, a group of measurements): always its own line. */
  phase(text: string): void {
    this.#clearLive();
    this.#out.write(`${this.#clock()} ${text}\n`);
  }

  /** A step inside a phase (a round): rewritten in place on a terminal, skipped in logs. */
  step(text: string): void {
    if (!this.#live) return;
    this.#clearLive();
    const line = `${this.#clock()}   ${text}`;
    this.#out.write(line);
    this.#liveLength = line.length;
  }

  /** A finished item with its outcome: its own line. */
  result(text: string): void {
    this.#clearLive();
    this.#out.write(`${this.#clock()}   ${text}\n`);
  }

  /** Seconds since the run started. */
  elapsedSeconds(): number {
    return (performance.now() - this.#started) / 1000;
  }

  #clearLive(): void {
    if (this.#liveLength === 0) return;
    this.#out.write(`\r${' '.repeat(this.#liveLength)}\r`);
    this.#liveLength = 0;
  }

  #clock(): string {
    const s = Math.floor(this.elapsedSeconds());
    return `[${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}]`;
  }
}
