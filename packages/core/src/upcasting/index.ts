export {
  type KnownEventVersions,
  type Upcaster,
  UpcasterRegistry,
  type UpcastPlan,
} from './upcaster-registry.js';
export { UpcastError, UpcasterChainError, type UpcasterChainProblem } from './upcasting-errors.js';
