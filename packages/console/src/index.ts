/**
 * @annals/console: a web console for an Annals event store on PostgreSQL or PGlite. `annals console`
 * serves it; {@link createConsole} builds it for your own server.
 *
 * @packageDocumentation
 */
export { type AnnalsConsole, createConsole } from './create-console.js';
export { ActionRefused } from './errors.js';
export type { EventView } from './json.js';
export {
  consoleListener,
  type ServeConsoleOptions,
  type ServedConsole,
  serveConsole,
} from './node-server.js';
export type { ConsoleLogger, ConsoleOptions, ConsoleToken } from './options.js';
export type { RebuildJob } from './rebuild-jobs.js';
export { generateToken } from './token.js';
