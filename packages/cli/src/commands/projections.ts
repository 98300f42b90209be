import { PostgresProjectionRunner } from '@annals/postgres';
import type { Command } from 'commander';
import { projectionNamed } from '../config.js';
import { CommandExit } from '../errors.js';
import { EXIT_CODES } from '../exit-codes.js';
import { formatDuration, toJson, writeLine } from '../output.js';
import { RebuildProgressBar } from '../rebuild-progress.js';
import { withSession } from '../session.js';
import { registerPauseResume } from './projection-pause.js';

/** `annals projections rebuild|pause|resume <name>`. */
export function registerProjections(program: Command): void {
  const projections = program.command('projections').description('rebuild, pause and resume projections');
  projections
    .command('rebuild')
    .description(
      'reset a projection of the config and replay the whole log into it; progress on stderr (a terminal); Ctrl-C stops where it is',
    )
    .argument('<name>', 'the projection name')
    .option('--json', 'print the result as JSON')
    .action(async (name: string, options: { json?: boolean }, command: Command) => {
      await withSession(command, { config: 'required', definitions: true }, async ({ store, config }) => {
        const projection = projectionNamed(config!, name);
        const runner = new PostgresProjectionRunner({ store, projections: [projection] });
        const abort = new AbortController();
        const interrupt = () => abort.abort();
        process.once('SIGINT', interrupt);
        process.once('SIGTERM', interrupt);
        const bar = new RebuildProgressBar();
        let total = 0;
        try {
          const result = await runner.rebuild(name, {
            signal: abort.signal,
            onProgress: (progress) => {
              total = progress.total;
              bar.update(progress);
            },
          });
          bar.stop();
          const positions = runner.status().map((s) => ({ key: s.key, position: s.position }));
          if (options.json === true) await writeLine(toJson({ ...result, positions, stopped: false }));
          else
            await writeLine(
              `rebuilt ${name}: ${result.events} event(s) in ${formatDuration(result.elapsedMs)}, at position ${positions.map((p) => p.position).join(', ')}`,
            );
        } catch (error) {
          bar.stop();
          if (!abort.signal.aborted) throw error;
          await runner.stop();
          const statuses = await runner.refreshStatus().catch(() => runner.status());
          const positions = statuses.map((s) => ({ key: s.key, position: s.position, lag: s.lag.events }));
          if (options.json === true)
            await writeLine(toJson({ projection: name, positions, total, stopped: true }));
          else {
            for (const p of positions) {
              await writeLine(
                `stopped ${p.key} at position ${p.position}, ${p.lag} event(s) still to apply; it continues from there when a runner starts it`,
              );
            }
          }
          throw new CommandExit(EXIT_CODES.interrupted);
        } finally {
          process.off('SIGINT', interrupt);
          process.off('SIGTERM', interrupt);
          await runner.stop();
        }
      });
    });
  registerPauseResume(projections);
}
