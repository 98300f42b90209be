import {
  defineEvent,
  defineProjection,
  isAnnalsError,
  type ProjectionStatus,
  type Subscription,
  uuidv7,
} from '@annals/core';
import {
  PostgresEventStore,
  type PostgresProjectionContext,
  PostgresProjectionRunner,
} from '@annals/postgres';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { OwnCluster } from './cluster.js';

/**
 * Riding out PostgreSQL outages: a cluster of the test's own is restarted fast, then stopped hard
 * (immediate: crash recovery at start) for 10 s and for 60 s, while four appenders (through an inline
 * projection), two subscribeToAll subscribers and two projection runners (`retries: 0` and the
 * defaults) run. Nothing may be lost or duplicated, no projection may fail, every subscription must
 * still be live, every error an appender saw must be typed. Prints each component's resume time:
 * from the server accepting connections to its first success.
 */

const Ticked = defineEvent('Ticked', { schema: z.object({ appender: z.number(), n: z.number() }) });
const APPENDERS = 4;
const SUBSCRIBERS = 2;
const HARD_STOPS_MS = [10_000, 60_000];

let cluster: OwnCluster | undefined;

beforeAll(async () => {
  cluster = await OwnCluster.create();
}, 120_000);

afterAll(async () => {
  await cluster?.drop();
}, 120_000);

/** Waits for `condition`, checking every 20 ms; fails naming `what` after `timeoutMs`. */
async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 120_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > until) throw new Error(`gave up waiting for ${what} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** When each component succeeded, thinned out: enough to find its first success after a moment. */
class Progress {
  readonly #history = new Map<string, number[]>();

  record(component: string, at = Date.now()): void {
    let list = this.#history.get(component);
    if (list === undefined) {
      list = [];
      this.#history.set(component, list);
    }
    // During steady traffic one success per 100 ms is enough; the first after a gap is always kept.
    if (list.length === 0 || at - list[list.length - 1]! > 100) list.push(at);
  }

  /** The first success of `component` after `since`. */
  firstAfter(component: string, since: number): number | undefined {
    return (this.#history.get(component) ?? []).find((t) => t > since);
  }
}

describe('a PostgreSQL outage (a cluster of its own, restarted and stopped hard)', () => {
  it('loses, duplicates and fails nothing, and every component resumes', { timeout: 900_000 }, async () => {
    const url = cluster!.url;
    const progress = new Progress();
    const health: string[] = [];
    const options = {
      events: [Ticked],
      subscriptions: { onHealth: (h: { status: string }) => health.push(h.status) },
    };

    const applyTo = async (table: string, e: { readonly id: string }, { tx }: PostgresProjectionContext) => {
      await sql`insert into ${sql.id('public', table)} (event_id, applied) values (${e.id}, 1)
        on conflict (event_id) do update set applied = ${sql.id('public', table)}.applied + 1`.execute(tx);
    };

    // Inline: applied in each append's transaction.
    const inline = defineProjection({
      name: 'inline',
      events: [Ticked],
      handlers: { Ticked: (e, ctx: PostgresProjectionContext) => applyTo('inline_model', e, ctx) },
    });

    // Separate stores, as separate processes would have; the appenders' store applies the inline projection.
    const appendStore = await PostgresEventStore.create(
      { connectionString: url, pool: { max: 8 } },
      { ...options, inlineProjections: [inline] },
    );
    await appendStore.migrate();
    const subscriberStore = await PostgresEventStore.create(
      { connectionString: url, pool: { max: 4 } },
      options,
    );
    const runnerStore = await PostgresEventStore.create({ connectionString: url, pool: { max: 6 } }, options);
    const db = appendStore.kysely;
    for (const table of ['inline_model', 'strict_model', 'default_model']) {
      await sql`create table if not exists ${sql.id('public', table)} (event_id uuid primary key, applied int not null)`.execute(
        db,
      );
    }

    // Two runners: retries 0 (an outage must never count as an attempt) and the defaults.
    const quiet = { warn: () => {}, error: (_: object, message: string) => console.error(message) };
    const strict = defineProjection({
      name: 'strict',
      events: [Ticked],
      failure: { retries: 0 },
      handlers: { Ticked: (e, ctx: PostgresProjectionContext) => applyTo('strict_model', e, ctx) },
    });
    const lenient = defineProjection({
      name: 'lenient',
      events: [Ticked],
      handlers: { Ticked: (e, ctx: PostgresProjectionContext) => applyTo('default_model', e, ctx) },
    });
    const strictRunner = new PostgresProjectionRunner({
      store: runnerStore,
      projections: [strict],
      logger: quiet,
    });
    const defaultRunner = new PostgresProjectionRunner({
      store: runnerStore,
      projections: [lenient],
      logger: quiet,
    });
    await strictRunner.start();
    await defaultRunner.start();
    const failures: string[] = [];
    const statuses = (): ProjectionStatus[] => [...strictRunner.status(), ...defaultRunner.status()];
    let lastPositions = new Map<string, bigint>();
    const watcher = setInterval(() => {
      const next = new Map<string, bigint>();
      for (const s of statuses()) {
        if (s.state === 'failed') failures.push(`${s.key}: ${s.lastError?.message}`);
        const before = lastPositions.get(s.key);
        if (before !== undefined && s.position > before) progress.record(`runner ${s.key}`);
        next.set(s.key, s.position);
      }
      lastPositions = next;
    }, 10);

    // Subscribers.
    const delivered: string[][] = [];
    const subscriptions: Subscription[] = [];
    const subscriberEnds: Promise<unknown>[] = [];
    for (let i = 0; i < SUBSCRIBERS; i++) {
      const ids: string[] = [];
      delivered.push(ids);
      const subscription = subscriberStore.subscribeToAll();
      subscriptions.push(subscription);
      subscriberEnds.push(
        (async () => {
          for await (const e of subscription) {
            ids.push(e.id);
            progress.record(`subscriber ${i}`);
          }
          return 'ended';
        })().catch((error: unknown) => error),
      );
    }

    // Appenders: each retries a failed append with the same ids until it is acknowledged.
    const acknowledged = new Set<string>();
    const untyped: unknown[] = [];
    const typedErrors = new Map<string, number>();
    let appending = true;
    const appenders = Array.from({ length: APPENDERS }, async (_, a) => {
      for (let n = 0; appending; n++) {
        const events = [Ticked.create({ appender: a, n }, { id: uuidv7() })];
        for (;;) {
          try {
            await appendStore.append(`appender-${a}-${n % 7}`, events, { expectedRevision: 'any' });
            progress.record(`appender ${a}`);
            acknowledged.add(events[0]!.id!);
            break;
          } catch (error) {
            if (isAnnalsError(error)) typedErrors.set(error.code, (typedErrors.get(error.code) ?? 0) + 1);
            else untyped.push(error);
            await pause(50); // the caller's own back-off between retries
          }
        }
        await pause(10); // a steady trickle, not a benchmark
      }
    });

    const resumeTimes: Record<string, Record<string, number>> = {};
    const components = () => [
      ...Array.from({ length: APPENDERS }, (_, a) => `appender ${a}`),
      ...Array.from({ length: SUBSCRIBERS }, (_, i) => `subscriber ${i}`),
      'runner strict',
      'runner lenient',
    ];
    /** Waits until every component succeeded after `acceptingAt`, and notes how long each took. */
    const measureResume = async (label: string, acceptingAt: number) => {
      await waitFor(
        () => components().every((c) => progress.firstAfter(c, acceptingAt) !== undefined),
        `every component to resume after ${label}`,
      );
      resumeTimes[label] = Object.fromEntries(
        components().map((c) => [c, progress.firstAfter(c, acceptingAt)! - acceptingAt]),
      );
    };
    /** Lets traffic flow until `count` more appends were acknowledged. */
    const flowing = async (count: number) => {
      const target = acknowledged.size + count;
      await waitFor(() => acknowledged.size >= target, `${count} more acknowledged appends`);
    };

    try {
      // Warm up: everything is flowing.
      await waitFor(
        () => components().every((c) => progress.firstAfter(c, 0) !== undefined),
        'every component to make progress before the first outage',
      );
      await flowing(200);

      // A fast restart.
      await cluster!.stop('fast');
      let down = Date.now();
      await cluster!.start();
      await measureResume('fast restart', Math.max(down, await cluster!.acceptingSince()));
      await flowing(200);

      for (const downtime of HARD_STOPS_MS) {
        await cluster!.stop('immediate');
        down = Date.now();
        await pause(downtime); // the deliberate outage
        const starting = cluster!.start();
        const accepting = await cluster!.acceptingSince();
        await starting;
        await measureResume(`hard stop ${downtime / 1000} s`, Math.max(down, accepting));
        await flowing(200);
      }

      appending = false;
      await Promise.all(appenders);

      // Drain: subscribers and runners reach the end of the log.
      const log = (
        await sql<{ id: string }>`select id::text as id from annals.events order by position`.execute(db)
      ).rows.map((r) => r.id);
      await waitFor(
        () => delivered.every((ids) => ids.length >= log.length),
        `the subscribers to deliver all ${log.length} events`,
      );
      await strictRunner.waitUntilCaughtUp();
      await defaultRunner.waitUntilCaughtUp();

      console.log(
        `outage test: ${log.length} events; errors the appenders saw: ${JSON.stringify(Object.fromEntries(typedErrors))}; subscription health changes: ${health.length}`,
      );
      console.log('resume time (ms) from the server accepting connections to the first success:');
      console.table(resumeTimes);

      expect(untyped.map(String), 'untyped errors the appenders saw').toEqual([]);
      expect(failures, 'projections that failed').toEqual([]);
      expect(new Set(log).size, 'duplicate ids in the log').toBe(log.length);
      expect([...acknowledged].sort(), 'the log holds exactly the acknowledged appends').toEqual(
        [...log].sort(),
      );
      for (const [i, ids] of delivered.entries()) {
        expect(ids, `subscriber ${i} delivered the log exactly, in order`).toEqual(log);
      }
      for (const table of ['inline_model', 'strict_model', 'default_model']) {
        const rows = (
          await sql<{
            event_id: string;
            applied: number;
          }>`select event_id::text, applied from ${sql.id('public', table)}`.execute(db)
        ).rows;
        expect(
          rows.filter((r) => r.applied !== 1),
          `${table}: events applied more than once`,
        ).toEqual([]);
        expect(rows.map((r) => r.event_id).sort(), `${table} holds every event of the log`).toEqual(
          [...log].sort(),
        );
      }
      for (const s of statuses()) expect(s.state, `projection ${s.key}`).toBe('running');
      expect(
        subscriptions.map((s) => s.stopped),
        'every subscription still live',
      ).toEqual(subscriptions.map(() => false));
    } finally {
      appending = false;
      clearInterval(watcher);
      await Promise.allSettled(appenders);
      await strictRunner.stop();
      await defaultRunner.stop();
      for (const s of subscriptions) await s.stop();
      const ends = await Promise.all(subscriberEnds);
      await appendStore.close();
      await subscriberStore.close();
      await runnerStore.close();
      expect(ends, 'subscriptions ended only by stop()').toEqual(ends.map(() => 'ended'));
    }
  });
});
