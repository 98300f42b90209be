import type { ProcessStore, ProcessTimer } from '@annals/core';
import { describe, expect, it } from 'vitest';
import { expectAnnalsError } from './expect-error.js';

/** Options of {@link runTimerStoreConformance}. */
export interface TimerStoreConformanceOptions {
  /** Shown in the test names. */
  readonly name: string;
  /** A fresh, empty store for each case. */
  createStore(): ProcessStore | Promise<ProcessStore>;
  /**
   * Another handle on the data of `store` (another connection, as a second node or a restarted
   * process has). Without it, the concurrency case shares `store` and the restart case is skipped.
   */
  openPeer?(store: ProcessStore): ProcessStore | Promise<ProcessStore>;
}

const T0 = Date.parse('2030-01-01T00:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms);

function timer(key: string, dueMs: number, overrides: Partial<ProcessTimer> = {}): ProcessTimer {
  return {
    process: 'transfers',
    key,
    name: 'Deadline',
    dueAt: at(dueMs),
    message: { type: 'Deadline', attempt: 1 },
    scheduledBy: `input-${key}-${dueMs}`,
    ...overrides,
  };
}

const claim = (store: ProcessStore, owner: string, nowMs: number, limit = 100, claimMs = 30_000) =>
  store.claimDue({ owner, now: at(nowMs), limit, claimMs, processes: ['transfers'] });

const names = (timers: readonly ProcessTimer[]) => timers.map((t) => `${t.key}/${t.name}`);

/**
 * Registers the cases every timer store (a `ProcessStore`) must pass: timers scheduled, replaced and
 * cancelled; a due timer claimed by one owner only, never before it is due, late after downtime,
 * again once a claim expires (at least once); `fired` removing only the scheduling it fired; timers
 * kept across a restart; commits that write an instance and its timers together by compare-and-swap;
 * bad input refused with `InvalidArgument`.
 *
 * @example
 * ```ts
 * runTimerStoreConformance({ name: 'InMemoryProcessStore', createStore: () => new InMemoryProcessStore() });
 * ```
 */
export function runTimerStoreConformance(options: TimerStoreConformanceOptions): void {
  describe(`${options.name}: timer store conformance`, () => {
    it('schedules timers, replaces one of the same name, cancels; pending lists them in due order', async () => {
      const store = await options.createStore();
      await store.schedule(timer('t-2', 2000));
      await store.schedule(timer('t-1', 1000));
      await store.schedule(timer('t-1', 500, { name: 'Retry', message: { type: 'Retry' } }));
      expect(names(await store.pending('transfers'))).toEqual(['t-1/Retry', 't-1/Deadline', 't-2/Deadline']);
      await store.schedule(
        timer('t-1', 3000, { scheduledBy: 'later-input', message: { type: 'Deadline', attempt: 2 } }),
      );
      const t1 = await store.pending('transfers', 't-1');
      expect(t1.map((t) => [t.name, t.dueAt.toISOString(), t.scheduledBy, t.message])).toEqual([
        ['Retry', at(500).toISOString(), 'input-t-1-500', { type: 'Retry' }],
        ['Deadline', at(3000).toISOString(), 'later-input', { type: 'Deadline', attempt: 2 }],
      ]);
      await store.cancel({ process: 'transfers', key: 't-1', name: 'Retry' });
      await store.cancel({ process: 'transfers', key: 't-9', name: 'Retry' });
      expect(names(await store.pending('transfers'))).toEqual(['t-2/Deadline', 't-1/Deadline']);
      expect(await store.pending('other-process'), 'processes are apart').toEqual([]);
    });

    it('claims a timer once it is due, never a millisecond early, and late after downtime', async () => {
      const store = await options.createStore();
      await store.schedule(timer('t-1', 1000));
      await store.schedule(timer('t-2', 5000));
      expect(await claim(store, 'node-1', 999), 'one millisecond before it is due').toEqual([]);
      const due = await claim(store, 'node-1', 1000);
      expect(names(due), 'exactly when due').toEqual(['t-1/Deadline']);
      await store.fired(due[0]!);
      // Down for an hour: everything due meanwhile is claimed at once, in due order.
      await store.schedule(timer('t-3', 4000));
      const late = await claim(store, 'node-2', 3_600_000);
      expect(names(late)).toEqual(['t-3/Deadline', 't-2/Deadline']);
      expect(late[0]?.dueAt.toISOString(), 'the claim keeps the due instant').toBe(at(4000).toISOString());
    });

    it('gives a due timer to one claimant: two owners claiming at once split the due timers, none twice, none lost', async () => {
      const store = await options.createStore();
      const peer = (await options.openPeer?.(store)) ?? store;
      const keys = Array.from({ length: 40 }, (_, i) => `t-${i}`);
      for (const key of keys) await store.schedule(timer(key, 1000));
      const claimedBy = new Map<string, string[]>();
      const drain = async (s: ProcessStore, owner: string) => {
        // 40 timers by 3: a store that hands a claimed timer out again would never run dry.
        for (let round = 0; round < 100; round++) {
          const got = await claim(s, owner, 2000, 3);
          if (got.length === 0) return;
          for (const t of got) claimedBy.set(t.key, [...(claimedBy.get(t.key) ?? []), owner]);
        }
        throw new Error(
          `${owner} was still claiming timers after 100 rounds: a claimed timer is handed out again`,
        );
      };
      await Promise.all([drain(store, 'node-1'), drain(peer, 'node-2'), drain(store, 'node-3')]);
      expect([...claimedBy.keys()].sort()).toEqual([...keys].sort());
      const twice = [...claimedBy.entries()].filter(([, owners]) => owners.length > 1);
      expect(twice, 'timers claimed by more than one owner').toEqual([]);
    });

    it('claims a timer again once its claim expired without a fire (at least once), not before', async () => {
      const store = await options.createStore();
      await store.schedule(timer('t-1', 1000));
      expect(names(await claim(store, 'node-1', 1000, 10, 30_000))).toEqual(['t-1/Deadline']);
      expect(await claim(store, 'node-2', 30_999), 'while the claim of node-1 holds').toEqual([]);
      expect(names(await claim(store, 'node-2', 31_000)), 'once it expired').toEqual(['t-1/Deadline']);
    });

    it('removes a fired timer, unless it was scheduled again since its claim', async () => {
      const store = await options.createStore();
      await store.schedule(timer('t-1', 1000));
      await store.schedule(timer('t-2', 1000));
      const claimed = await claim(store, 'node-1', 1000);
      const first = claimed.find((t) => t.key === 't-1');
      const second = claimed.find((t) => t.key === 't-2');
      await store.fired(first!);
      // t-2 is scheduled again (a later input) after the claim: its fire must not remove the new one.
      await store.schedule(timer('t-2', 9000, { scheduledBy: 'rescheduled' }));
      await store.fired(second!);
      const left = await store.pending('transfers');
      expect(left.map((t) => [t.key, t.scheduledBy])).toEqual([['t-2', 'rescheduled']]);
      expect(await claim(store, 'node-1', 8999), 'the new scheduling is not due yet').toEqual([]);
    });

    it('claims only the timers of the process managers asked for', async () => {
      const store = await options.createStore();
      await store.schedule(timer('t-1', 1000));
      await store.schedule(timer('o-1', 1000, { process: 'orders' }));
      const got = await store.claimDue({
        owner: 'n',
        now: at(1000),
        limit: 10,
        claimMs: 1000,
        processes: ['orders'],
      });
      expect(got.map((t) => t.process)).toEqual(['orders']);
      expect(
        await store.claimDue({ owner: 'n', now: at(1000), limit: 10, claimMs: 1000, processes: [] }),
      ).toEqual([]);
    });

    it.skipIf(options.openPeer === undefined)(
      'keeps timers across a restart: another handle on the same data sees and fires them',
      async () => {
        const store = await options.createStore();
        await store.schedule(timer('t-1', 1000));
        expect(names(await claim(store, 'crashed-node', 1000, 10, 5000))).toEqual(['t-1/Deadline']);
        const restarted = await options.openPeer!(store);
        expect(names(await restarted.pending('transfers'))).toEqual(['t-1/Deadline']);
        expect(await claim(restarted, 'node-2', 2000), 'the crashed claim still holds').toEqual([]);
        const again = await claim(restarted, 'node-2', 6000);
        expect(names(again)).toEqual(['t-1/Deadline']);
        await restarted.fired(again[0]!);
        expect(await store.pending('transfers')).toEqual([]);
      },
    );

    it('commits an instance and its timer changes together, by compare-and-swap on its position', async () => {
      const store = await options.createStore();
      const record = (position: bigint, timers: Record<string, { dueAt: string; scheduledBy: string }>) => ({
        state: { step: 'started', amount: 5 },
        position,
        timers,
        completed: false,
      });
      const deadline = timer('t-1', 1000, { scheduledBy: 'e-1' });
      expect(
        await store.commit(
          'transfers',
          't-1',
          record(10n, { Deadline: { dueAt: at(1000).toISOString(), scheduledBy: 'e-1' } }),
          { schedule: [deadline], cancel: [] },
          undefined,
        ),
      ).toBe(true);
      expect(await store.load('transfers', 't-1')).toEqual(
        record(10n, { Deadline: { dueAt: at(1000).toISOString(), scheduledBy: 'e-1' } }),
      );
      // A second commit expecting no instance (a runner that read before the first): nothing written.
      expect(
        await store.commit(
          'transfers',
          't-1',
          record(10n, {}),
          { schedule: [], cancel: ['Deadline'] },
          undefined,
        ),
      ).toBe(false);
      expect(names(await store.pending('transfers'))).toEqual(['t-1/Deadline']);
      expect(
        await store.commit('transfers', 't-1', record(12n, {}), { schedule: [], cancel: ['Deadline'] }, 11n),
      ).toBe(false);
      expect(
        await store.commit(
          'transfers',
          't-1',
          { ...record(12n, {}), completed: true },
          { schedule: [], cancel: ['Deadline'] },
          10n,
        ),
      ).toBe(true);
      expect(await store.pending('transfers')).toEqual([]);
      expect((await store.load('transfers', 't-1'))?.completed).toBe(true);
      expect(await store.load('transfers', 't-2')).toBeUndefined();
    });

    it('records the first outcome of a command and keeps it', async () => {
      const store = await options.createStore();
      expect(await store.outcome('cmd-1')).toBeUndefined();
      const rejected = {
        ok: false as const,
        error: { name: 'AccountClosedError', message: 'closed', code: 'ACCOUNT_CLOSED' },
      };
      await store.recordOutcome('cmd-1', rejected);
      await store.recordOutcome('cmd-1', { ok: true });
      expect(await store.outcome('cmd-1')).toEqual(rejected);
    });

    it('refuses bad input with InvalidArgument and writes nothing', async () => {
      const store = await options.createStore();
      const bad: ProcessTimer[] = [
        timer('', 1000),
        timer('t-1', 1000, { name: '' }),
        timer('t-1', 1000, { dueAt: new Date(Number.NaN) }),
        timer('t-1', 1000, { dueAt: 'tomorrow' as unknown as Date }),
        timer('t-1', 1000, { scheduledBy: '' }),
        timer('t-1\u0000', 1000),
      ];
      for (const t of bad) await expectAnnalsError(() => store.schedule(t), 'INVALID_ARGUMENT');
      for (const claimOptions of [
        { owner: '', now: at(0), limit: 1, claimMs: 1, processes: ['transfers'] },
        { owner: 'n', now: new Date(Number.NaN), limit: 1, claimMs: 1, processes: ['transfers'] },
        { owner: 'n', now: at(0), limit: 0, claimMs: 1, processes: ['transfers'] },
        { owner: 'n', now: at(0), limit: 1, claimMs: 0, processes: ['transfers'] },
      ]) {
        await expectAnnalsError(() => store.claimDue(claimOptions), 'INVALID_ARGUMENT');
      }
      await expectAnnalsError(
        () => store.cancel({ process: 'transfers', key: '', name: 'x' }),
        'INVALID_ARGUMENT',
      );
      expect(await store.pending('transfers')).toEqual([]);
    });
  });
}
