/**
 * The bank's domain: its events and upcasters, the `BankAccount` and `Transfer` aggregates and their
 * errors. The application imports it, and so do the framework's tests, which exercise aggregates,
 * commands and projections on this domain rather than on a copy of it.
 */
export * from './bank-account.js';
export * from './errors.js';
export * from './events.js';
export * from './money.js';
export * from './transfer.js';
