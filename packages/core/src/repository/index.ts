export { Repositories } from './repositories.js';
export {
  type AggregateClass,
  type LoadAtTarget,
  Repository,
  type RepositoryOptions,
  type SaveOptions,
} from './repository.js';
export { AggregateNotFound } from './repository-errors.js';
export { defaultStreamId, type StreamIdStrategy } from './stream-id.js';
