export type { CommandSender, ProcessDependencies } from './apply-input.js';
export { type Clock, ManualClock, systemClock } from './clock.js';
export {
  defaultIsRejection,
  defineProcessManager,
  type ProcessEventOf,
  type ProcessFailure,
  type ProcessManager,
  type ProcessManagerOptions,
  type Reaction,
  type ReactionContext,
  type TimerMessage,
  type TimerWhen,
} from './define-process-manager.js';
export { InMemoryProcessStore } from './in-memory-process-store.js';
export { ProcessCompensationFailed, ProcessManagerDefinitionInvalid } from './process-errors.js';
export {
  ProcessManagerRunner,
  type ProcessManagerRunnerOptions,
} from './process-manager-runner.js';
export type {
  ClaimDueOptions,
  CommandOutcome,
  ProcessRecord,
  ProcessStore,
  ProcessTimer,
  RecordedTimer,
  RejectionInfo,
  TimerChanges,
  TimerRef,
  TimerStore,
} from './process-store.js';
export { ProcessTimerFired, timerFiredEvent, timerStreamId } from './timer-fired.js';
