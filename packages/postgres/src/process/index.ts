export {
  PostgresProcessManagerRunner,
  type PostgresProcessManagerRunnerOptions,
} from './postgres-process-manager-runner.js';
export { PostgresProcessStore } from './postgres-process-store.js';
