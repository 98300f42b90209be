export { ENVELOPE_KEY, type Envelope, isEnvelope } from './envelope.js';
export {
  forget,
  PERSONAL_DATA_STREAM,
  type PersonalDataStore,
  rotateKey,
  SubjectForgottenEvent,
} from './forget.js';
export { FORGOTTEN, type Forgotten, forgottenSchema, isForgotten } from './forgotten.js';
export { assertSubject, InMemoryKeyStore } from './in-memory-key-store.js';
export type {
  KeyStore,
  KeyStoreCallOptions,
  PersonalDataOptions,
  SubjectKey,
  SubjectKeys,
} from './key-store.js';
export { type PersonalField, type PersonalOptions, personal } from './personal.js';
export { PersonalDataCodec } from './personal-data-codec.js';
export {
  ForgottenSubjectRefused,
  KeyStoreUnavailable,
  PersonalDataKeysMissing,
  PersonalDataUnreadable,
} from './personal-data-errors.js';
