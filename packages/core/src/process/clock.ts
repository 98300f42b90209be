import { InvalidArgument } from '../errors/store-errors.js';

/**
 * Where process managers read the time: when a reaction schedules `after` a delay, and when the
 * timer poller looks for due timers. Inject one to move time in tests without sleeping.
 */
export interface Clock {
  /** The current time, in milliseconds since the Unix epoch. */
  now(): number;
}

/** The system clock (`Date.now`). */
export const systemClock: Clock = Object.freeze({ now: () => Date.now() });

/**
 * A clock that moves only when told: tests schedule a timer, `advance` past it, and fire it at once.
 *
 * @example
 * ```ts
 * const clock = new ManualClock(new Date('2030-01-01T00:00:00Z'));
 * clock.advance(60_000); // one minute later
 * ```
 */
export class ManualClock implements Clock {
  #now: number;

  /** Starts at `start` (a `Date` or epoch milliseconds); default: the system time now. */
  constructor(start: Date | number = Date.now()) {
    this.#now = toMs('ManualClock start', start);
  }

  now(): number {
    return this.#now;
  }

  /** Moves the clock `ms` milliseconds forward (never back). */
  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) {
      throw new InvalidArgument(
        `ManualClock.advance expects a non-negative number of milliseconds, found ${String(ms)}.`,
      );
    }
    this.#now += ms;
  }

  /** Sets the clock to `to`; refused when that is earlier than now (a clock does not go back). */
  set(to: Date | number): void {
    const ms = toMs('ManualClock.set', to);
    if (ms < this.#now) {
      throw new InvalidArgument(
        `ManualClock.set expects a time at or after ${new Date(this.#now).toISOString()}, found ${new Date(ms).toISOString()}.`,
      );
    }
    this.#now = ms;
  }
}

function toMs(what: string, value: Date | number): number {
  const ms = value instanceof Date ? value.getTime() : value;
  if (typeof ms !== 'number' || !Number.isFinite(ms)) {
    throw new InvalidArgument(`${what} expects a Date or epoch milliseconds, found ${String(value)}.`);
  }
  return ms;
}

/** True when `value` has a `now()` method. */
export function isClock(value: unknown): value is Clock {
  return typeof (value as { now?: unknown } | null)?.now === 'function';
}
