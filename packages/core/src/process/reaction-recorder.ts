import {
  type AnyCommandDefinition,
  type CommandInput,
  isCommandDefinition,
} from '../command/define-command.js';
import { InvalidArgument } from '../errors/store-errors.js';
import { storeKeyProblem } from '../store/store-key.js';
import type { ProcessManager, ReactionContext, TimerMessage, TimerWhen } from './define-process-manager.js';
import { ProcessManagerDefinitionInvalid } from './process-errors.js';

/** A command a reaction sent. */
export interface SentCommand {
  readonly command: AnyCommandDefinition;
  readonly data: unknown;
}

/** A timer change a reaction made, in order. */
export type TimerOperation =
  | { readonly op: 'schedule'; readonly name: string; readonly dueAt: Date; readonly message: TimerMessage }
  | { readonly op: 'cancel'; readonly name: string };

/** The {@link ReactionContext} a reaction receives: it records what the reaction does, for the runner to carry out. */
export class ReactionRecorder implements ReactionContext {
  readonly commands: SentCommand[] = [];
  readonly timers: TimerOperation[] = [];
  completed = false;
  readonly #process: ProcessManager<any>;

  constructor(
    process: ProcessManager<any>,
    readonly key: string,
    readonly now: Date,
  ) {
    this.#process = process;
  }

  send<C extends AnyCommandDefinition>(command: C, data: CommandInput<C>): void {
    if (!isCommandDefinition(command)) {
      throw new InvalidArgument(
        `${this.#about()}: send expects a command definition made by defineCommand, found ${String(command)}.`,
      );
    }
    this.commands.push({ command, data });
  }

  schedule(when: TimerWhen, message: TimerMessage): void {
    const dueAt = this.#dueAt(when);
    if (typeof message !== 'object' || message === null || typeof message.type !== 'string') {
      throw new InvalidArgument(
        `${this.#about()}: schedule expects a message object with a string type, found ${JSON.stringify(message)}.`,
      );
    }
    if (!this.#process.timerTypes.includes(message.type)) {
      throw new ProcessManagerDefinitionInvalid(
        this.#process.name,
        `a reaction schedules timer ${message.type}, which has no handler in timers (${this.#process.timerTypes.join(', ') || 'none'}).`,
      );
    }
    let json: TimerMessage;
    try {
      json = JSON.parse(JSON.stringify(message)) as TimerMessage;
    } catch (error) {
      throw new InvalidArgument(`${this.#about()}: timer ${message.type}'s message is not JSON.`, {
        cause: error,
      });
    }
    this.timers.push({ op: 'schedule', name: message.type, dueAt, message: json });
  }

  cancel(name: string): void {
    const problem = storeKeyProblem(name);
    if (problem !== undefined) {
      throw new InvalidArgument(`${this.#about()}: cancel expects a timer name, ${problem}.`);
    }
    this.timers.push({ op: 'cancel', name });
  }

  complete(): void {
    this.completed = true;
  }

  #dueAt(when: TimerWhen): Date {
    if (typeof when === 'object' && when !== null) {
      if ('at' in when && when.at instanceof Date && !Number.isNaN(when.at.getTime()))
        return new Date(when.at);
      if ('after' in when && Number.isFinite(when.after) && when.after >= 0) {
        return new Date(this.now.getTime() + when.after);
      }
    }
    throw new InvalidArgument(
      `${this.#about()}: schedule expects { at: Date } or { after: milliseconds >= 0 }, found ${String(JSON.stringify(when))}.`,
    );
  }

  #about(): string {
    return `Process manager ${this.#process.name} (${this.key})`;
  }
}
