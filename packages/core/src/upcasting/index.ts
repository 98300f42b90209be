export {
  type KnownEventVersions,
  type Upcaster,
  UpcasterRegistry,
  type UpcastPlan,
} from './upcaster-registry.js';
export { UpcastError, UpcasterChainError } from './upcasting-errors.js';
