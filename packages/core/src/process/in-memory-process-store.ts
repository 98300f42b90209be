import { assertStoreKey } from '../store/store-key.js';
import {
  assertClaimDueOptions,
  assertProcessTimer,
  assertTimerRef,
  type ClaimDueOptions,
  type CommandOutcome,
  type ProcessRecord,
  type ProcessStore,
  type ProcessTimer,
  type TimerChanges,
  type TimerRef,
} from './process-store.js';

interface StoredTimer {
  readonly timer: ProcessTimer;
  claimedBy: string | undefined;
  claimedUntil: number;
}

/**
 * A {@link ProcessStore} in process memory: instances, command outcomes and timers, for one process
 * (tests, the embedded default). Values are copied in and out, as a database would.
 */
export class InMemoryProcessStore implements ProcessStore {
  readonly #records = new Map<string, ProcessRecord>();
  readonly #outcomes = new Map<string, CommandOutcome>();
  readonly #timers = new Map<string, StoredTimer>();

  async load(process: string, key: string): Promise<ProcessRecord | undefined> {
    assertStoreKey('process name', process);
    assertStoreKey('process key', key);
    const record = this.#records.get(id(process, key));
    return record === undefined ? undefined : structuredClone(record);
  }

  async commit(
    process: string,
    key: string,
    record: ProcessRecord,
    changes: TimerChanges,
    expected: bigint | undefined,
  ): Promise<boolean> {
    assertStoreKey('process name', process);
    assertStoreKey('process key', key);
    for (const timer of changes.schedule) assertProcessTimer(timer);
    const stored = this.#records.get(id(process, key));
    if (stored?.position !== expected) return false;
    this.#records.set(id(process, key), structuredClone(record));
    for (const name of changes.cancel) this.#timers.delete(timerId({ process, key, name }));
    for (const timer of changes.schedule) this.#put(timer);
    return true;
  }

  async outcome(commandId: string): Promise<CommandOutcome | undefined> {
    assertStoreKey('command id', commandId);
    const outcome = this.#outcomes.get(commandId);
    return outcome === undefined ? undefined : structuredClone(outcome);
  }

  async recordOutcome(commandId: string, outcome: CommandOutcome): Promise<void> {
    assertStoreKey('command id', commandId);
    if (!this.#outcomes.has(commandId)) this.#outcomes.set(commandId, structuredClone(outcome));
  }

  async schedule(timer: ProcessTimer): Promise<void> {
    assertProcessTimer(timer);
    this.#put(timer);
  }

  async cancel(ref: TimerRef): Promise<void> {
    assertTimerRef(ref);
    this.#timers.delete(timerId(ref));
  }

  async claimDue(options: ClaimDueOptions): Promise<readonly ProcessTimer[]> {
    assertClaimDueOptions(options);
    const now = options.now.getTime();
    const processes = new Set(options.processes);
    const due = [...this.#timers.values()]
      .filter(
        (t) =>
          processes.has(t.timer.process) &&
          t.timer.dueAt.getTime() <= now &&
          (t.claimedBy === undefined || t.claimedUntil <= now),
      )
      .sort(byDue)
      .slice(0, options.limit);
    for (const t of due) {
      t.claimedBy = options.owner;
      t.claimedUntil = now + options.claimMs;
    }
    return due.map((t) => copy(t.timer));
  }

  async fired(timer: ProcessTimer): Promise<void> {
    assertTimerRef(timer);
    const stored = this.#timers.get(timerId(timer));
    if (stored?.timer.scheduledBy === timer.scheduledBy) this.#timers.delete(timerId(timer));
  }

  async pending(process: string, key?: string): Promise<readonly ProcessTimer[]> {
    assertStoreKey('timer process', process);
    if (key !== undefined) assertStoreKey('timer key', key);
    return [...this.#timers.values()]
      .filter((t) => t.timer.process === process && (key === undefined || t.timer.key === key))
      .sort(byDue)
      .map((t) => copy(t.timer));
  }

  #put(timer: ProcessTimer): void {
    this.#timers.set(timerId(timer), { timer: copy(timer), claimedBy: undefined, claimedUntil: 0 });
  }
}

function id(process: string, key: string): string {
  return JSON.stringify([process, key]);
}

function timerId(ref: TimerRef): string {
  return JSON.stringify([ref.process, ref.key, ref.name]);
}

function byDue(a: StoredTimer, b: StoredTimer): number {
  return a.timer.dueAt.getTime() - b.timer.dueAt.getTime();
}

function copy(timer: ProcessTimer): ProcessTimer {
  return Object.freeze({
    process: timer.process,
    key: timer.key,
    name: timer.name,
    dueAt: new Date(timer.dueAt.getTime()),
    message: structuredClone(timer.message),
    scheduledBy: timer.scheduledBy,
  });
}
