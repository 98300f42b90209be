/**
 * @annals/cli: the `annals` command (migrate, status, streams, tail, projections rebuild, dead
 * letters, export, import, verify), and what a config module needs to type itself.
 *
 * @packageDocumentation
 */
export { type AnnalsConfig, DEFAULT_CONFIG_FILES, defineConfig } from './config.js';
export { EXIT_CODES, type ExitCode } from './exit-codes.js';
export type { ExportedEvent } from './ndjson.js';
export { CLI_VERSION, createProgram, run } from './program.js';
