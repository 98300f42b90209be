export {
  type ProcessExpectation,
  ProcessManagerSpec,
  type ProcessManagerSpecOptions,
  ProcessScenario,
  type SentCommandRecord,
  type TimerRecord,
} from './process-manager-spec.js';
