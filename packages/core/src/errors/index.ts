export {
  AnnalsError,
  type AnnalsErrorCode,
  type AnnalsErrorCodes,
  hasErrorCode,
  isAnnalsError,
} from './annals-error.js';
export {
  ConcurrencyConflict,
  EventTooLarge,
  EventValidationFailed,
  type ExpectedRevisionValue,
  IdempotencyConflict,
  InvalidArgument,
  isConcurrencyConflict,
  StoreClosed,
  StreamNotFound,
  UnknownEventType,
  type ValidationIssue,
} from './store-errors.js';
