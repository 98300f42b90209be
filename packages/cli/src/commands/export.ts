import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import type { Command } from 'commander';
import { exportLine } from '../ndjson.js';
import { bigintOption } from '../parse.js';
import { withSession } from '../session.js';

/** `annals export [--out file] [--from position]`. */
export function registerExport(program: Command): void {
  program
    .command('export')
    .description(
      'write the log as NDJSON, one recorded event per line in log order, as stored (no upcasting), streamed',
    )
    .option('--out <file>', 'write to this file instead of stdout')
    .option('--from <position>', 'first global position (inclusive)', bigintOption('--from'))
    .action(async (options: { out?: string; from?: bigint }, command: Command) => {
      await withSession(command, { config: 'optional', definitions: false }, async ({ store }) => {
        const out: Writable = options.out === undefined ? process.stdout : createWriteStream(options.out);
        let count = 0;
        try {
          for await (const event of store.readAll({ fromPosition: options.from ?? 0n })) {
            if (!out.write(`${exportLine(event)}\n`)) await once(out, 'drain');
            count++;
          }
        } finally {
          if (out !== process.stdout) {
            out.end();
            await once(out, 'finish');
          }
        }
        process.stderr.write(`exported ${count} event(s)\n`);
      });
    });
}
