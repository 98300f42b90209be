export { DecoratorsNotConfigured } from './decorator-setup.js';
export { injectRepository } from './inject-repository.js';
export { type Annals, type AnnalsOptions, registerAnnals } from './register-annals.js';
export { AnnalsTokens } from './tokens.js';
