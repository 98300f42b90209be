export {
  type KnownEventVersions,
  type Upcaster,
  UpcasterRegistry,
  type UpcastPlan,
} from './upcaster-registry.js';
export { UpcasterChainInvalid, type UpcasterChainProblem, UpcastFailed } from './upcasting-errors.js';
