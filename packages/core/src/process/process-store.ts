import { InvalidArgument } from '../errors/store-errors.js';
import { assertStoreKey } from '../store/store-key.js';

/** A pending timer of one process instance, as the timer store keeps it. */
export interface ProcessTimer {
  /** The process manager's name. */
  readonly process: string;
  /** The instance's correlation key (a transfer id...). */
  readonly key: string;
  /** The timer's name within the instance (the type of its message): scheduling it again replaces it. */
  readonly name: string;
  /** It fires at this instant or later, never earlier. */
  readonly dueAt: Date;
  /** What the timer carries back to the process manager (JSON). */
  readonly message: unknown;
  /** Identifies this scheduling (the id of the input whose reaction scheduled it). */
  readonly scheduledBy: string;
}

/** Which timer: a process, an instance key and a timer name. */
export type TimerRef = Pick<ProcessTimer, 'process' | 'key' | 'name'>;

/** Options of {@link TimerStore.claimDue}. */
export interface ClaimDueOptions {
  /** Who claims (a runner id). */
  readonly owner: string;
  /** Timers due at or before this instant are claimed; later ones never. */
  readonly now: Date;
  /** At most this many timers. */
  readonly limit: number;
  /** A claim expires after this long (measured on `now`), so a timer whose claimant died fires elsewhere. */
  readonly claimMs: number;
  /** Only the timers of these process managers. */
  readonly processes: readonly string[];
}

/**
 * Durable timers of process managers. A timer is claimed by one owner at a time (`claimDue`), fired,
 * then removed (`fired`); a claim that is not followed by `fired` expires and the timer is claimed
 * again: timers fire at least once, never before they are due.
 */
export interface TimerStore {
  /** Stores `timer`, replacing the pending timer of the same process, key and name. */
  schedule(timer: ProcessTimer): Promise<void>;
  /** Removes the pending timer, if any. */
  cancel(ref: TimerRef): Promise<void>;
  /**
   * Claims for `owner` the timers due at `now` (in due order) that hold no unexpired claim (its own
   * included), and returns them. Two concurrent claimants never get the same timer.
   */
  claimDue(options: ClaimDueOptions): Promise<readonly ProcessTimer[]>;
  /** Removes a fired timer, unless it was scheduled again since (another `scheduledBy`). */
  fired(timer: ProcessTimer): Promise<void>;
  /** The pending timers of `process` (of one instance when `key` is given), in due order. */
  pending(process: string, key?: string): Promise<readonly ProcessTimer[]>;
}

/** A pending timer as an instance's record keeps it. */
export interface RecordedTimer {
  /** ISO 8601. */
  readonly dueAt: string;
  readonly scheduledBy: string;
}

/** The stored state and progress of one process instance. */
export interface ProcessRecord<TState = unknown> {
  /** The state its events evolved (JSON). */
  readonly state: TState;
  /** The position of the last input (event or timer fire) applied: an input at or below it is not applied again. */
  readonly position: bigint;
  /** Its pending timers, by name. */
  readonly timers: Readonly<Record<string, RecordedTimer>>;
  /** True once the process ended: later inputs are ignored. */
  readonly completed: boolean;
}

/** What became of a command a process manager sent. */
export type CommandOutcome = { readonly ok: true } | { readonly ok: false; readonly error: RejectionInfo };

/** A rejected command's error, as recorded (the same on the first run and on a re-run after a crash). */
export interface RejectionInfo {
  readonly name: string;
  readonly message: string;
  /** The error's `code`, when it has a string one. */
  readonly code?: string;
}

/**
 * Where process managers keep their instances, the outcomes of the commands they sent, and their
 * timers. `commit` writes an instance's record and its timers together, as a compare-and-swap on
 * the position it read: a crash leaves the instance as before or after the input, never between.
 */
export interface ProcessStore extends TimerStore {
  /** The record of one instance, or undefined when none was committed. */
  load(process: string, key: string): Promise<ProcessRecord | undefined>;
  /**
   * Writes `record` and the timer changes in one step if the stored record's position is still
   * `expected` (undefined: no record). Resolves false, having written nothing, otherwise.
   */
  commit(
    process: string,
    key: string,
    record: ProcessRecord,
    changes: TimerChanges,
    expected: bigint | undefined,
  ): Promise<boolean>;
  /** The recorded outcome of command `commandId`, if any. */
  outcome(commandId: string): Promise<CommandOutcome | undefined>;
  /** Records the outcome of command `commandId` at once (not with a later commit); a second record keeps the first. */
  recordOutcome(commandId: string, outcome: CommandOutcome): Promise<void>;
}

/** The timers a commit schedules (replacing those of the same name) and cancels (by name). */
export interface TimerChanges {
  readonly schedule: readonly ProcessTimer[];
  readonly cancel: readonly string[];
}

/** Checks a timer for {@link TimerStore.schedule}; stores reuse it to refuse bad input alike. */
export function assertProcessTimer(timer: ProcessTimer): void {
  if (typeof timer !== 'object' || timer === null) {
    throw new InvalidArgument(`A timer must be an object, found ${String(timer)}.`);
  }
  assertTimerRef(timer);
  if (!(timer.dueAt instanceof Date) || Number.isNaN(timer.dueAt.getTime())) {
    throw new InvalidArgument(
      `Timer ${timer.name} of ${timer.process} ${timer.key}: dueAt must be a valid Date, found ${String(timer.dueAt)}.`,
    );
  }
  assertStoreKey('timer scheduledBy', timer.scheduledBy);
  if (timer.message === undefined) {
    throw new InvalidArgument(`Timer ${timer.name} of ${timer.process} ${timer.key}: message is missing.`);
  }
}

/** Checks the process, key and name of a timer. */
export function assertTimerRef(ref: TimerRef): void {
  if (typeof ref !== 'object' || ref === null) {
    throw new InvalidArgument(`A timer reference must be an object, found ${String(ref)}.`);
  }
  assertStoreKey('timer process', ref.process);
  assertStoreKey('timer key', ref.key);
  assertStoreKey('timer name', ref.name);
}

/** Checks the options of {@link TimerStore.claimDue}. */
export function assertClaimDueOptions(options: ClaimDueOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgument(`claimDue expects an options object, found ${String(options)}.`);
  }
  assertStoreKey('timer owner', options.owner);
  if (!(options.now instanceof Date) || Number.isNaN(options.now.getTime())) {
    throw new InvalidArgument(`claimDue expects now to be a valid Date, found ${String(options.now)}.`);
  }
  if (!Number.isSafeInteger(options.limit) || options.limit < 1) {
    throw new InvalidArgument(
      `claimDue expects limit to be a positive integer, found ${String(options.limit)}.`,
    );
  }
  if (!Number.isFinite(options.claimMs) || options.claimMs <= 0) {
    throw new InvalidArgument(
      `claimDue expects claimMs to be a positive number of milliseconds, found ${String(options.claimMs)}.`,
    );
  }
  if (!Array.isArray(options.processes)) {
    throw new InvalidArgument(
      `claimDue expects processes to be an array of names, found ${String(options.processes)}.`,
    );
  }
  for (const process of options.processes) assertStoreKey('timer process', process);
}
