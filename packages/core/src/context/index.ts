export { type CommandContext, currentCommandContext, runInCommandContext } from './command-context.js';
