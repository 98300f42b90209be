import { LeaseLost } from '../projection-errors.js';
import { worthLogging } from '../transient-retry.js';
import { pollInterval, type WorkerSettings } from './worker-settings.js';

/**
 * What a claim found: `'held'` (ours, or no leases), `'elsewhere'` (another runner holds it, or this
 * runner should not), `'unavailable'` (the store could not be reached: retried on a short backoff).
 */
export type LeaseClaim = 'held' | 'elsewhere' | 'unavailable';

/** `released`: not ours; `held`: claimed and renewed; `lost`: a renewal found it taken. */
type Holding = 'released' | 'held' | 'lost';

/** The settings a {@link LeaseHolder} reads. */
export type LeaseSettings = Pick<
  WorkerSettings<unknown, unknown>,
  'leases' | 'key' | 'owner' | 'leaseTtlMs' | 'logger' | 'isTransient'
>;

/** What the lease holder tells its worker. */
export interface LeaseEvents {
  /** A heartbeat found the lease taken: the worker ends its batch and stands by. */
  lost(): void;
  /** A claim failed because the store could not be reached, `failures` times in a row. */
  unavailable(error: unknown, failures: number): void;
}

/**
 * Holds the lease of one projection key: claims it, renews it on a heartbeat (every third of its
 * lifetime), renews it at once after an outage, and releases it. Without a lease store every claim
 * succeeds.
 */
export class LeaseHolder {
  readonly #s: LeaseSettings;
  readonly #events: LeaseEvents;
  #holding: Holding = 'released';
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  /** Consecutive claims that failed because the store could not be reached. */
  #claimFailures = 0;

  constructor(settings: LeaseSettings, events: LeaseEvents) {
    this.#s = settings;
    this.#events = events;
  }

  /** True once a heartbeat found the lease taken, until it is claimed again or dropped. */
  get lost(): boolean {
    return this.#holding === 'lost';
  }

  /** Consecutive claims that failed because the store could not be reached. */
  get claimFailures(): number {
    return this.#claimFailures;
  }

  /** Claims the lease (when `desired`) and starts the heartbeat. */
  async claim(desired: boolean): Promise<LeaseClaim> {
    const { leases, key, owner, leaseTtlMs, logger } = this.#s;
    if (leases === undefined) return 'held';
    if (!desired) return 'elsewhere';
    try {
      if (!(await leases.acquire(key, owner, leaseTtlMs))) {
        this.#claimFailures = 0;
        return 'elsewhere';
      }
    } catch (error) {
      if (this.#s.isTransient(error)) {
        this.#claimFailures++;
        this.#events.unavailable(error, this.#claimFailures);
        if (worthLogging(this.#claimFailures)) {
          logger.warn(
            { err: error },
            `Projection ${key}: acquiring its lease failed, the store is unavailable (${this.#claimFailures} in a row); retrying.`,
          );
        }
        return 'unavailable';
      }
      logger.warn({ err: error }, `Projection ${key}: acquiring its lease failed; retrying.`);
      return 'elsewhere';
    }
    this.#claimFailures = 0;
    this.#holding = 'held';
    this.#startHeartbeat();
    return 'held';
  }

  /**
   * After an outage the lease may have expired: renews it now rather than at the next heartbeat.
   * Throws {@link LeaseLost} when another runner took it meanwhile.
   */
  async renewNow(): Promise<void> {
    const { leases, key, owner, leaseTtlMs } = this.#s;
    if (leases === undefined) return;
    if (!(await leases.renew(key, owner, leaseTtlMs))) {
      throw new LeaseLost(key, owner, 'another runner took its lease while the store was unavailable');
    }
  }

  /** Stops holding the lease without releasing it (it was lost, or the checkpoint moved). */
  drop(): void {
    this.#stopHeartbeat();
    this.#holding = 'released';
  }

  /** Gives the lease up at once, so another runner need not wait for it to expire. */
  async release(): Promise<void> {
    this.#stopHeartbeat();
    const { leases, key, owner, logger } = this.#s;
    if (this.#holding === 'released' || leases === undefined) return;
    this.#holding = 'released';
    try {
      await leases.release(key, owner);
    } catch (error) {
      logger.warn({ err: error }, `Projection ${key}: releasing its lease failed; it will expire.`);
    }
  }

  #startHeartbeat(): void {
    const { leases, key, owner, leaseTtlMs, logger } = this.#s;
    if (leases === undefined || this.#heartbeat !== undefined) return;
    let renewing = false;
    this.#heartbeat = setInterval(() => {
      if (renewing) return;
      renewing = true;
      leases
        .renew(key, owner, leaseTtlMs)
        .then((held) => {
          if (!held && this.#holding === 'held') {
            this.#holding = 'lost';
            this.#events.lost();
          }
        })
        .catch((error: unknown) =>
          logger.warn({ err: error }, `Projection ${key}: renewing its lease failed.`),
        )
        .finally(() => {
          renewing = false;
        });
    }, pollInterval(leaseTtlMs));
    this.#heartbeat.unref?.();
  }

  #stopHeartbeat(): void {
    if (this.#heartbeat !== undefined) clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }
}
