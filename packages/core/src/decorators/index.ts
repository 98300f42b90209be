export { DecoratorsNotConfigured } from './decorator-setup.js';
