import { readSchemaState } from '@annals/postgres';
import type { Command } from 'commander';
import { CommandExit } from '../errors.js';
import { EXIT_CODES } from '../exit-codes.js';
import { toJson, writeLine } from '../output.js';
import { withSession } from '../session.js';

/** `annals migrate [--dry-run] [--json]`. */
export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('create or upgrade the Annals tables in the schema')
    .option('--dry-run', 'list the pending migrations and change nothing')
    .option('--check', 'with --dry-run: exit 5 when migrations are pending')
    .option('--json', 'print JSON')
    .action(async (options: { dryRun?: boolean; check?: boolean; json?: boolean }, command: Command) => {
      await withSession(command, { config: 'optional', definitions: false }, async ({ store }) => {
        if (options.dryRun === true) {
          const state = await readSchemaState(store);
          if (options.json === true) await writeLine(toJson(state));
          else if (state.pending.length === 0)
            await writeLine(`schema ${store.schema} is up to date (${state.applied.at(-1)})`);
          else {
            await writeLine(`schema ${store.schema}: ${state.pending.length} pending migration(s)`);
            for (const name of state.pending) await writeLine(`  ${name}`);
          }
          if (options.check === true && state.pending.length > 0)
            throw new CommandExit(EXIT_CODES.checkFailed);
          return;
        }
        const report = await store.migrate();
        if (options.json === true) await writeLine(toJson({ schema: store.schema, applied: report.applied }));
        else if (report.applied.length === 0) await writeLine(`schema ${store.schema} is up to date`);
        else {
          await writeLine(`schema ${store.schema}: applied ${report.applied.length} migration(s)`);
          for (const name of report.applied) await writeLine(`  ${name}`);
        }
      });
    });
}
