export { consoleLogger, type Logger, silentLogger } from './logger.js';
export { TRACE_CONTEXT_METADATA_KEY } from './trace-context.js';
