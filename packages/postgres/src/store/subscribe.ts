import type {
  RecordedEvent,
  SubscribeToAllOptions,
  SubscribeToStreamOptions,
  Subscription,
} from '@annals/core';
import {
  assertStreamId,
  drainSubscriptions,
  type PullPage,
  type PullReadOptions,
  PullSubscription,
  toBigIntOption,
} from '@annals/core/adapter';
import type { NotificationListener } from '../connection/notification-listener.js';
import { isTransientError } from './database-errors.js';
import { decodeStreamRow, type StreamEventRow, storedBytes } from './event-rows.js';
import { PageSizer } from './page-sizer.js';
import { compileFilter, decodeIfMatching, horizon, readAllPage, streamPage } from './read.js';
import type { StoreContext } from './store-context.js';
import { SubscriptionOutage } from './subscription-outage.js';

/**
 * The live subscriptions of one store: each catches up, then polls adaptively, woken early by NOTIFY
 * (through the store's LISTEN connection) and by appends in this process, and waits out outages.
 */
export class StoreSubscriptions {
  readonly #ctx: StoreContext;
  readonly #listener: NotificationListener | undefined;
  readonly #open = new Set<PullSubscription<RecordedEvent>>();

  constructor(ctx: StoreContext, listener: NotificationListener | undefined) {
    this.#ctx = ctx;
    this.#listener = listener;
  }

  /** Catch-up then live subscription to one stream, by revision. */
  toStream(streamId: string, options: SubscribeToStreamOptions): Subscription {
    const ctx = this.#ctx;
    ctx.assertOpen();
    assertStreamId(streamId);
    let next = toBigIntOption('fromRevision', options.fromRevision) ?? 0n;
    const sizer = new PageSizer(ctx.settings.pageSize, ctx.settings.pageBytes);
    return this.#track(async () => {
      const limit = sizer.limit;
      const rows = (await streamPage(ctx.db, streamId, next, limit, false)
        .orderBy('revision')
        .limit(limit)
        .execute()) as StreamEventRow[];
      sizer.record(storedBytes(rows));
      if (rows.length > 0) next = BigInt(rows[rows.length - 1]!.revision_text) + 1n;
      return {
        events: (await ctx.settings.registry.personalData.open(rows)).map((row) =>
          decodeStreamRow(ctx.settings.registry, row, streamId),
        ),
        more: rows.length === limit,
      };
    });
  }

  /** Catch-up then live subscription to the global log, below the horizon like `readAll`. */
  toAll(options: SubscribeToAllOptions): Subscription {
    const ctx = this.#ctx;
    ctx.assertOpen();
    let cursor = toBigIntOption('fromPosition', options.fromPosition) ?? 0n;
    const filter = compileFilter(ctx.settings.registry, options.filter);
    const sizer = new PageSizer(ctx.settings.pageSize, ctx.settings.pageBytes);
    return this.#track(async ({ draining }) => {
      // Closing: the store's own last append must be below the horizon of a read that began after.
      const target = draining ? ctx.drainTarget : undefined;
      const reached = target === undefined || cursor > target || (await horizon(ctx.db)) > target;
      const limit = sizer.limit;
      const rows = await readAllPage(ctx.db, cursor, limit, filter);
      sizer.record(storedBytes(rows));
      const events: RecordedEvent[] = [];
      for (const row of await ctx.settings.registry.personalData.open(rows)) {
        const event = decodeIfMatching(ctx.settings.registry, row, filter);
        if (event !== undefined) events.push(event);
      }
      if (rows.length > 0) cursor = BigInt(rows[rows.length - 1]!.position_text) + 1n;
      return { events, more: rows.length === limit, caughtUp: reached || (target ?? cursor) < cursor };
    });
  }

  /** Lets the subscriptions hand out what was appended before (at most `timeoutMs`), then stops them. */
  async close(timeoutMs: number): Promise<void> {
    await drainSubscriptions(this.#open, timeoutMs);
  }

  #track(read: (options: PullReadOptions) => Promise<PullPage<RecordedEvent>>): Subscription {
    const ctx = this.#ctx;
    const { pollMinMs, pollMaxMs } = ctx.settings;
    this.#listener?.acquire();
    const outage = new SubscriptionOutage(ctx.settings.outage, { minMs: pollMinMs, maxMs: pollMaxMs });
    let outageReads = 0;
    let stopped = false;
    const subscription = new PullSubscription<RecordedEvent>(
      {
        // While the store closes, subscriptions still read (see close()); stopped ones never do.
        next: async (options) => {
          if (stopped) return EMPTY_PAGE;
          try {
            await ctx.ensureVerified(ctx.db);
            const page = await read(options);
            outage.succeeded();
            return page;
          } catch (error) {
            if (stopped) return EMPTY_PAGE;
            if (!isTransientError(error)) throw error;
            // A lost connection, a server restarting: read again (with capped back-off) rather than
            // end, unless maxUnavailableMs has passed (then failed() throws StoreUnavailable). A store
            // that is closing reads again too, to hand out what was appended before close().
            outage.failed(error);
            return FAILED_PAGE;
          }
        },
        notifier: ctx.notifier,
        idleTimeoutMs: (emptyReads) => {
          if (outage.failures > 0) {
            outageReads = emptyReads;
            return outage.retryDelayMs();
          }
          // The failed reads of an outage count as empty ones: after it, polling starts over fast.
          if (emptyReads < outageReads) outageReads = 0;
          const idle = emptyReads - outageReads;
          return Math.min(pollMaxMs, pollMinMs * 2 ** Math.min(idle, 30));
        },
        onStop: async () => {
          stopped = true;
          await this.#listener?.release();
        },
      },
      (sub) => this.#open.delete(sub),
    );
    this.#open.add(subscription);
    return subscription;
  }
}

const EMPTY_PAGE: PullPage<RecordedEvent> = Object.freeze({ events: [], more: false });
/** A read that failed: nothing, and not known to reach the end (a closing store reads again). */
const FAILED_PAGE: PullPage<RecordedEvent> = Object.freeze({ events: [], more: false, caughtUp: false });
