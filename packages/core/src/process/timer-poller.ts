import { hasErrorCode } from '../errors/annals-error.js';
import type { Logger } from '../observability/logger.js';
import { ChangeNotifier } from '../store/change-notifier.js';
import type { EventStore } from '../store/event-store.js';
import type { Clock } from './clock.js';
import type { TimerStore } from './process-store.js';
import { timerFiredEvent, timerStreamId } from './timer-fired.js';

/** What a {@link TimerPoller} needs. */
export interface TimerPollerSettings {
  readonly store: EventStore;
  readonly timers: TimerStore;
  /** The process managers whose timers it fires. */
  readonly processes: readonly string[];
  readonly owner: string;
  readonly clock: Clock;
  readonly pollMs: number;
  readonly claimMs: number;
  readonly logger: Logger;
}

/** Timers claimed per round. */
const CLAIM_LIMIT = 100;

/**
 * Fires due timers: claims them for its owner (a timer claimed by one runner is not claimed by
 * another until the claim expires), appends each as a `ProcessTimerFired` event with an id derived
 * from the timer (a second fire of the same timer appends nothing), then removes it. A runner that
 * dies between the append and the removal leaves the claim to expire: another fires it again, which
 * the event's id makes harmless. Internal to `ProcessManagerRunner`.
 */
export class TimerPoller {
  readonly #s: TimerPollerSettings;
  readonly #changes = new ChangeNotifier();
  #abort = new AbortController();
  #loop: Promise<void> | undefined;
  /** The round running now: a second caller waits for it, then runs its own. */
  #round: Promise<number> = Promise.resolve(0);

  constructor(settings: TimerPollerSettings) {
    this.#s = settings;
  }

  start(): void {
    if (this.#loop !== undefined) return;
    this.#abort = new AbortController();
    this.#loop = this.#run().finally(() => {
      this.#loop = undefined;
    });
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    this.#changes.notify();
    await this.#loop;
    await this.#round.catch(() => undefined);
  }

  /** Fires every timer due now (by the clock); resolves with how many this call fired. */
  fireDue(): Promise<number> {
    const round = this.#round.catch(() => 0).then(() => this.#fireDue());
    this.#round = round;
    return round;
  }

  async #fireDue(): Promise<number> {
    const { store, timers, owner, clock, claimMs, processes } = this.#s;
    let fired = 0;
    for (;;) {
      const due = await timers.claimDue({
        owner,
        now: new Date(clock.now()),
        limit: CLAIM_LIMIT,
        claimMs,
        processes,
      });
      for (const timer of due) {
        await store.append(timerStreamId(timer.process), [timerFiredEvent(timer)]);
        await timers.fired(timer);
        fired++;
      }
      if (due.length < CLAIM_LIMIT) return fired;
    }
  }

  async #run(): Promise<void> {
    const { logger, pollMs } = this.#s;
    while (!this.#abort.signal.aborted) {
      try {
        await this.fireDue();
      } catch (error) {
        if (this.#abort.signal.aborted) return;
        if (hasErrorCode(error, 'UNKNOWN_EVENT_TYPE')) {
          logger.error(
            { err: error },
            'A due timer could not be fired: the store does not know ProcessTimerFired; add it to its event definitions.',
          );
        } else {
          logger.warn({ err: error }, 'Firing due timers failed; retrying at the next poll.');
        }
      }
      await this.#changes.wait(this.#changes.version, { timeoutMs: pollMs, signal: this.#abort.signal });
    }
  }
}
