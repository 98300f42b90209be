/**
 * `@annals/core/tsyringe`: the tsyringe wiring, the documented default way to assemble an Annals
 * application. `registerAnnals` registers the store, the repositories and a command bus that resolves
 * `@CommandHandler` classes through the container; `@InjectRepository` injects a repository.
 * Importing this entry loads the `reflect-metadata` polyfill (before tsyringe, which needs it).
 *
 * @packageDocumentation
 */

import 'reflect-metadata';

export { InjectRepository } from './inject-repository.js';
export { type Annals, type AnnalsOptions, registerAnnals } from './register-annals.js';
export { AnnalsTokens } from './tokens.js';
