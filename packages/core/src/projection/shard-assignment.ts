import type { Logger } from '../observability/logger.js';
import type { LeaseStore } from './lease-store.js';
import { transientDelay, worthLogging } from './transient-retry.js';
import type { ProjectionWorker } from './worker/projection-worker.js';
import { pollInterval } from './worker/worker-settings.js';

/** The membership lease key of `owner` among the runners of a sharded projection. */
export function memberKey(projection: string, owner: string): string {
  return `${projection}/members/${owner}`;
}

/**
 * Spreads the shards of one projection over the live runners: each runner heartbeats a membership
 * lease, and shard i belongs to the (i mod members)-th member in owner order. A runner releases the
 * shards no longer assigned to it (after their current batch) and claims the ones that are; when a
 * runner joins or leaves (or dies and its membership expires), every member recomputes.
 */
export class ShardAssignment<TContext, TTransaction> {
  readonly #prefix: string;
  readonly #memberKey: string;
  #timer: ReturnType<typeof setInterval> | undefined;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #ticking = false;
  /** Consecutive failed refreshes. */
  #failures = 0;

  constructor(
    readonly name: string,
    readonly workers: readonly ProjectionWorker<TContext, TTransaction>[],
    readonly leases: LeaseStore,
    readonly owner: string,
    readonly ttlMs: number,
    readonly logger: Logger,
  ) {
    this.#prefix = memberKey(name, '');
    this.#memberKey = memberKey(name, owner);
  }

  async start(): Promise<void> {
    await this.#tick();
    this.#timer = setInterval(() => void this.#tick(), pollInterval(this.ttlMs));
    this.#timer.unref?.();
  }

  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#retry !== undefined) clearTimeout(this.#retry);
    this.#retry = undefined;
    await this.leases.release(this.#memberKey, this.owner).catch(() => undefined);
  }

  async #tick(): Promise<void> {
    if (this.#ticking) return;
    this.#ticking = true;
    try {
      await this.leases.acquire(this.#memberKey, this.owner, this.ttlMs);
      const members = new Set((await this.leases.list(this.#prefix)).map((l) => l.owner));
      members.add(this.owner);
      const ordered = [...members].sort();
      const me = ordered.indexOf(this.owner);
      for (const [i, worker] of this.workers.entries()) worker.setDesired(i % ordered.length === me);
    } catch (error) {
      this.#failures++;
      if (worthLogging(this.#failures)) {
        this.logger.warn({ err: error }, `Projection ${this.name}: refreshing the shard assignment failed.`);
      }
      // The store may be down: try again soon rather than a third of the lease's lifetime later, so
      // the assignment is fresh as soon as the database is back.
      this.#retry ??= setTimeout(() => {
        this.#retry = undefined;
        if (this.#timer !== undefined) void this.#tick();
      }, transientDelay(this.#failures));
      this.#retry.unref?.();
      return;
    } finally {
      this.#ticking = false;
    }
    this.#failures = 0;
  }
}
