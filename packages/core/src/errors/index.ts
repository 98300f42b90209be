export { AnnalsError, type AnnalsErrorCode, hasErrorCode, isAnnalsError } from './annals-error.js';
export {
  ConcurrencyError,
  EventTooLarge,
  EventValidationError,
  type ExpectedRevisionValue,
  formatIssues,
  IdempotencyConflict,
  InvalidArgument,
  isConcurrencyError,
  StoreClosed,
  StreamNotFound,
  UnknownEventType,
  type ValidationIssue,
} from './store-errors.js';
