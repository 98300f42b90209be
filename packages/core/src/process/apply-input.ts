import type { CommandBus } from '../command/command-bus.js';
import type { RecordedEvent } from '../events/event-types.js';
import type { Clock } from './clock.js';
import type { ProcessFailure, ProcessManager, TimerMessage } from './define-process-manager.js';
import { ProcessCompensationFailed } from './process-errors.js';
import type {
  CommandOutcome,
  ProcessStore,
  ProcessTimer,
  RecordedTimer,
  RejectionInfo,
} from './process-store.js';
import { ReactionRecorder, type SentCommand } from './reaction-recorder.js';
import { ProcessTimerFired } from './timer-fired.js';

/** What a process manager sends commands through: a `CommandBus` (or anything with its `execute`). */
export type CommandSender = Pick<CommandBus, 'execute'>;

/** What applying an input needs. */
export interface ProcessDependencies {
  readonly processes: ProcessStore;
  readonly bus: CommandSender;
  readonly clock: Clock;
}

interface FiredData {
  readonly process: string;
  readonly key: string;
  readonly name: string;
  readonly scheduledBy: string;
  readonly message: TimerMessage;
}

/**
 * Applies one input (an event of the process manager, or the fire of one of its timers) to its
 * instance: evolve, react, send the commands (each outcome recorded before the next is sent; a
 * rejection runs the compensation), then commit state, progress and timers together. Every step can
 * be run again after a crash: an input at or below the instance's position is skipped, a command
 * whose outcome is recorded is not sent again, and one sent but not recorded goes again with the
 * same id (the bus's idempotency, or the domain, deduplicates it).
 */
export async function applyInput(
  process: ProcessManager<any>,
  deps: ProcessDependencies,
  event: RecordedEvent,
): Promise<void> {
  const fired = event.type === ProcessTimerFired.type ? (event.data as FiredData) : undefined;
  if (fired !== undefined && fired.process !== process.name) return;
  const key = fired?.key ?? process.correlate(event);
  if (key === undefined) return;
  const record = await deps.processes.load(process.name, key);
  if (record !== undefined && (record.position >= event.position || record.completed)) return;

  let state = record === undefined ? process.initialState() : record.state;
  const timers: Record<string, RecordedTimer> = { ...record?.timers };
  const reaction = new ReactionRecorder(process, key, new Date(deps.clock.now()));
  if (fired === undefined) {
    state = process.evolve(state, event);
    await process.react(state, event, reaction);
  } else {
    // A timer cancelled or scheduled again after this fire was claimed: the fire is stale.
    if (timers[fired.name]?.scheduledBy !== fired.scheduledBy) return;
    delete timers[fired.name];
    await process.onTimer(state, fired.message, reaction);
  }

  const correlationId =
    typeof event.metadata.correlationId === 'string' ? event.metadata.correlationId : undefined;
  const send = (commands: readonly SentCommand[], step: string) =>
    sendInOrder(process, deps, commands, `${process.name}:${event.id}:${step}`, correlationId);
  const recorders = [reaction];
  const failure = await send(reaction.commands, 's');
  if (failure !== undefined) {
    if (!process.compensates) {
      throw new ProcessCompensationFailed(
        process.name,
        key,
        failure.commandType,
        failure.error,
        'and the definition declares no compensation',
      );
    }
    const compensation = new ReactionRecorder(process, key, reaction.now);
    await process.compensate(state, failure, compensation);
    recorders.push(compensation);
    const again = await send(compensation.commands, 'c');
    if (again !== undefined) {
      throw new ProcessCompensationFailed(
        process.name,
        key,
        again.commandType,
        again.error,
        'in its compensation',
      );
    }
  }

  const scheduled = new Map<string, ProcessTimer>();
  for (const operation of recorders.flatMap((r) => r.timers)) {
    if (operation.op === 'cancel') {
      delete timers[operation.name];
      scheduled.delete(operation.name);
    } else {
      timers[operation.name] = { dueAt: operation.dueAt.toISOString(), scheduledBy: event.id };
      scheduled.set(operation.name, {
        process: process.name,
        key,
        name: operation.name,
        dueAt: operation.dueAt,
        message: operation.message,
        scheduledBy: event.id,
      });
    }
  }
  const completed = recorders.some((r) => r.completed);
  const kept = completed ? {} : timers;
  const before = Object.keys(record?.timers ?? {});
  await deps.processes.commit(
    process.name,
    key,
    { state, position: event.position, timers: kept, completed },
    {
      schedule: completed ? [] : [...scheduled.values()],
      // Timers that are gone: cancelled, fired, or all of them when the process ends.
      cancel: [...new Set([...before, ...(fired === undefined ? [] : [fired.name])])].filter(
        (n) => !(n in kept),
      ),
    },
    record?.position,
  );
  // A false commit: another runner applied this input (or a later one) meanwhile, the same way.
}

/** Sends `commands` in order; returns the first rejection (the rest is not sent), or undefined. */
async function sendInOrder(
  process: ProcessManager<any>,
  deps: ProcessDependencies,
  commands: readonly SentCommand[],
  idPrefix: string,
  correlationId: string | undefined,
): Promise<ProcessFailure | undefined> {
  for (const [index, { command, data }] of commands.entries()) {
    const commandId = `${idPrefix}${index}`;
    let outcome: CommandOutcome | undefined = await deps.processes.outcome(commandId);
    if (outcome === undefined) {
      try {
        await deps.bus.execute(command, data, {
          commandId,
          ...(correlationId === undefined ? {} : { correlationId }),
        });
        outcome = { ok: true };
      } catch (error) {
        if (!process.isRejection(error)) throw error;
        outcome = { ok: false, error: rejectionInfo(error) };
      }
      await deps.processes.recordOutcome(commandId, outcome);
    }
    if (!outcome.ok) return { commandType: command.type, data, commandId, error: outcome.error };
  }
  return undefined;
}

/** The recordable part of a rejection. */
export function rejectionInfo(error: unknown): RejectionInfo {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { name: error.name, message: error.message, ...(typeof code === 'string' ? { code } : {}) };
  }
  return { name: 'Error', message: String(error) };
}
