export {
  type CommandOutcome,
  CommandScenario,
  CommandSpec,
  type CommandSpecEnvironment,
  type CommandSpecOptions,
  type ExpectedCommandEvent,
  type SpecContainer,
} from './command-spec.js';
