import { Command, CommanderError, Option } from 'commander';
import { registerConsole } from './commands/console.js';
import { registerDeadLetters } from './commands/dead-letters.js';
import { registerExport } from './commands/export.js';
import { registerImport } from './commands/import.js';
import { registerMigrate } from './commands/migrate.js';
import { registerProjections } from './commands/projections.js';
import { registerPrune } from './commands/prune.js';
import { registerSeal } from './commands/seal.js';
import { registerStatus } from './commands/status.js';
import { registerStreams } from './commands/streams.js';
import { registerTail } from './commands/tail.js';
import { registerVerify } from './commands/verify.js';
import { CommandExit, errorLine, exitCodeOf } from './errors.js';
import { EXIT_CODES, type ExitCode } from './exit-codes.js';

/** The version printed by `annals --version`. */
export const CLI_VERSION = '0.1.0';

/** Builds the `annals` command with every subcommand. */
export function createProgram(): Command {
  const program = new Command('annals')
    .description('Operate an Annals event store on PostgreSQL or PGlite.')
    .version(CLI_VERSION)
    .addOption(
      new Option('--database-url <url>', 'PostgreSQL server, postgres://user@host:5432/db').env(
        'DATABASE_URL',
      ),
    )
    .option('--data <folder>', 'PGlite data folder (embedded mode; one process at a time)')
    .option('--schema <name>', "schema of the Annals tables (default: the config's, else annals)")
    .option(
      '--config <file>',
      'config module (default: annals.config.ts|mts|js|mjs in the working directory)',
    )
    .exitOverride();
  program.addHelpText(
    'after',
    `
Exit codes: 0 ok, 1 failed, 2 usage, 3 database unreachable, 4 schema not migrated,
5 check failed (verify, verify --chain, seal --checkpoint), 130 interrupted (Ctrl-C).`,
  );
  registerMigrate(program);
  registerStatus(program);
  registerStreams(program);
  registerTail(program);
  registerProjections(program);
  registerDeadLetters(program);
  registerPrune(program);
  registerExport(program);
  registerImport(program);
  registerVerify(program);
  registerSeal(program);
  registerConsole(program);
  inheritSettings(program);
  return program;
}

function inheritSettings(command: Command): void {
  // Usage errors are printed by run(), as one line with a code like every other failure.
  command.exitOverride().configureOutput({ outputError: () => {} });
  for (const sub of command.commands) inheritSettings(sub);
}

/**
 * Runs the `annals` command line (`argv` as in `process.argv`) and resolves with its exit code. An
 * error is printed on stderr as one line, `annals: CODE: message`.
 */
export async function run(argv: readonly string[]): Promise<ExitCode> {
  const program = createProgram();
  try {
    await program.parseAsync([...argv]);
    return EXIT_CODES.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end with code 0; naming no subcommand prints the help on stderr.
      if (error.exitCode === 0) return EXIT_CODES.ok;
      if (error.code === 'commander.help') return EXIT_CODES.usage;
      process.stderr.write(`annals: INVALID_ARGUMENT: ${usageMessage(error)} (add --help for usage)\n`);
      return EXIT_CODES.usage;
    }
    if (error instanceof CommandExit) return error.exitCode;
    process.stderr.write(`${errorLine(error)}\n`);
    return exitCodeOf(error);
  }
}

/** Commander's message without its `error: ` prefix, on one line. */
function usageMessage(error: CommanderError): string {
  return error.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ');
}
