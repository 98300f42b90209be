export { type BackoffOptions, backoffDelay } from './backoff.js';
