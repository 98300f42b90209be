import { hostname } from 'node:os';
import { InvalidArgument } from '../errors/store-errors.js';
import type { RecordedEvent } from '../events/event-types.js';
import { uuidv7 } from '../events/uuid.js';
import { consoleLogger, type Logger } from '../observability/logger.js';
import type { CheckpointStore } from '../projection/checkpoint-store.js';
import {
  defineProjection,
  type Projection,
  type ProjectionContext,
} from '../projection/define-projection.js';
import type { EventLogStats } from '../projection/event-log-stats.js';
import type { LeaseStore } from '../projection/lease-store.js';
import type { ProjectionControl } from '../projection/projection-control.js';
import { ProjectionRunner } from '../projection/projection-runner.js';
import { positiveInteger } from '../projection/projection-runner-options.js';
import type { ProjectionStatus } from '../projection/projection-status.js';
import type { EventStore } from '../store/event-store.js';
import { applyInput, type CommandSender, type ProcessDependencies } from './apply-input.js';
import { type Clock, isClock, systemClock } from './clock.js';
import type { ProcessManager } from './define-process-manager.js';
import { InMemoryProcessStore } from './in-memory-process-store.js';
import { ProcessManagerDefinitionInvalid } from './process-errors.js';
import type { ProcessStore } from './process-store.js';
import { ProcessTimerFired } from './timer-fired.js';
import { TimerPoller } from './timer-poller.js';

/** Options of {@link ProcessManagerRunner}. */
export interface ProcessManagerRunnerOptions {
  readonly store: EventStore;
  /** Where reactions send their commands: the application's `CommandBus`. */
  readonly bus: CommandSender;
  readonly processManagers: readonly ProcessManager<any>[];
  /** Instances, command outcomes and timers. Default: a new `InMemoryProcessStore`. */
  readonly processes?: ProcessStore;
  /** The time reactions and the timer poller read. Default: the system clock. */
  readonly clock?: Clock;
  /** This runner's id: lease owner and timer claimant. Default: host, pid and a random suffix. */
  readonly owner?: string;
  /** Keep each process manager on one runner at a time across processes (as projections). */
  readonly leases?: LeaseStore;
  /** Where each process manager's position in the log is kept. Default: in memory. */
  readonly checkpoints?: CheckpointStore;
  /**
   * Where process managers are paused and resumed, by name, as projections: a paused one applies no
   * input (its timers still fire into the log and are applied on resume). Default: in memory.
   */
  readonly control?: ProjectionControl;
  /** Measures the lag. Default: reads the log. */
  readonly stats?: EventLogStats;
  /** Errors retried without end (the store unavailable), as a projection runner's. */
  readonly isTransient?: (error: unknown) => boolean;
  readonly logger?: Logger;
  /** Lease lifetime in milliseconds. Default 10 000. */
  readonly leaseTtlMs?: number;
  /** How often due timers are looked for, in milliseconds. Default 1000. */
  readonly timerPollMs?: number;
  /** How long a runner's claim on a due timer lasts before another may fire it, in milliseconds. Default 30 000. */
  readonly timerClaimMs?: number;
}

/**
 * Runs process managers: each one's events (and the fires of its timers) are applied in log order,
 * one at a time, by a projection of the same name (checkpoint, lease, failure policy), and due
 * timers are fired by every runner, each timer by one. A crash at any point re-runs nothing twice
 * and loses nothing (see `docs/guides/process-managers.md`).
 *
 * @example
 * ```ts
 * const runner = new ProcessManagerRunner({ store, bus, processManagers: [TransferProcess] });
 * await runner.start();
 * // ... on shutdown:
 * await runner.stop();
 * ```
 */
export class ProcessManagerRunner {
  /** This runner's id. */
  readonly owner: string;
  /** Where instances, command outcomes and timers are kept. */
  readonly processes: ProcessStore;
  /** The clock reactions and the timer poller read. */
  readonly clock: Clock;
  /** The projection runner that applies the inputs (status, lag, restart). */
  readonly projections: ProjectionRunner<ProjectionContext, unknown>;
  readonly #timers: TimerPoller;

  constructor(options: ProcessManagerRunnerOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new InvalidArgument(`ProcessManagerRunner expects an options object, found ${String(options)}.`);
    }
    const { store, bus, processManagers } = options;
    if (typeof bus?.execute !== 'function') {
      throw new InvalidArgument('ProcessManagerRunner expects options.bus to be a CommandBus, found none.');
    }
    if (!Array.isArray(processManagers) || processManagers.length === 0) {
      throw new InvalidArgument(
        'ProcessManagerRunner expects options.processManagers to list at least one process manager.',
      );
    }
    if (options.clock !== undefined && !isClock(options.clock)) {
      throw new InvalidArgument(
        `ProcessManagerRunner expects options.clock to have a now() method, found ${String(options.clock)}.`,
      );
    }
    this.owner = options.owner ?? `${hostname()}-${process.pid}-${uuidv7().slice(-8)}`;
    this.processes = options.processes ?? new InMemoryProcessStore();
    this.clock = options.clock ?? systemClock;
    const deps: ProcessDependencies = { processes: this.processes, bus, clock: this.clock };
    const projections = processManagers.map((pm) => toProjection(pm, deps));
    this.projections = new ProjectionRunner<ProjectionContext, unknown>({
      store,
      projections,
      owner: this.owner,
      // One input at a time: each one's commands go out before the next input is looked at.
      batchSize: 1,
      ...(options.leases === undefined ? {} : { leases: options.leases }),
      ...(options.checkpoints === undefined ? {} : { checkpoints: options.checkpoints }),
      ...(options.control === undefined ? {} : { control: options.control }),
      ...(options.stats === undefined ? {} : { stats: options.stats }),
      ...(options.isTransient === undefined ? {} : { isTransient: options.isTransient }),
      ...(options.logger === undefined ? {} : { logger: options.logger }),
      ...(options.leaseTtlMs === undefined ? {} : { leaseTtlMs: options.leaseTtlMs }),
    });
    this.#timers = new TimerPoller({
      store,
      timers: this.processes,
      processes: processManagers.map((pm) => pm.name),
      owner: this.owner,
      clock: this.clock,
      pollMs: positiveInteger('timerPollMs', options.timerPollMs ?? 1000),
      claimMs: positiveInteger('timerClaimMs', options.timerClaimMs ?? 30_000),
      logger: options.logger ?? consoleLogger,
    });
  }

  /** Starts applying inputs and polling for due timers. No-op when started. */
  async start(): Promise<void> {
    await this.projections.start();
    this.#timers.start();
  }

  /** Stops gracefully: the input being applied is finished first. */
  async stop(): Promise<void> {
    await this.#timers.stop();
    await this.projections.stop();
  }

  /**
   * Fires the timers due now by the clock, at once rather than at the next poll (after a test moved
   * a `ManualClock`). Resolves with how many this runner fired; they are applied as they arrive in
   * the log (see {@link waitUntilCaughtUp}).
   */
  fireDueTimers(): Promise<number> {
    return this.#timers.fireDue();
  }

  /** Resolves once the process manager (every one when `name` is omitted) has applied every input stored now. */
  waitUntilCaughtUp(name?: string, options: { readonly signal?: AbortSignal } = {}): Promise<void> {
    return this.projections.waitUntilCaughtUp(name, options);
  }

  /** The status of each process manager, as a projection's. */
  status(): readonly ProjectionStatus[] {
    return this.projections.status();
  }
}

function toProjection(pm: ProcessManager<any>, deps: ProcessDependencies): Projection {
  if (typeof pm?.correlate !== 'function' || typeof pm.name !== 'string') {
    throw new ProcessManagerDefinitionInvalid(
      undefined,
      `options.processManagers must hold process managers made by defineProcessManager, found ${String(pm)}.`,
    );
  }
  const apply = (event: RecordedEvent) => applyInput(pm, deps, event);
  const handlers = Object.fromEntries(
    [...pm.eventTypes, ProcessTimerFired.type].map((type) => [type, apply]),
  );
  return defineProjection({
    name: pm.name,
    handlers,
    ...(pm.failure === undefined ? {} : { failure: pm.failure }),
  });
}
