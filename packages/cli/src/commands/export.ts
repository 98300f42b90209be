import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import type { PostgresEventStore } from '@annals/postgres';
import type { Command } from 'commander';
import { exportLine } from '../ndjson.js';
import { formatDuration } from '../output.js';
import { bigintOption } from '../parse.js';
import { withSession } from '../session.js';

/** How long to wait between reads while a transaction holds committed events above the horizon. */
const RECHECK_MS = 100;

/** `annals export [--out file] [--from position] [--no-wait]`. */
export function registerExport(program: Command): void {
  program
    .command('export')
    .description(
      'write the log as NDJSON, one recorded event per line in log order, as stored (no upcasting), streamed',
    )
    .option('--out <file>', 'write to this file instead of stdout')
    .option('--from <position>', 'first global position (inclusive)', bigintOption('--from'))
    .option(
      '--no-wait',
      'export only what readers see now, without waiting for events committed above the horizon',
    )
    .action(async (options: { out?: string; from?: bigint; wait: boolean }, command: Command) => {
      await withSession(command, { config: 'optional', definitions: false }, async ({ store }) => {
        const out: Writable = options.out === undefined ? process.stdout : createWriteStream(options.out);
        // Everything committed when the export starts; readers see it once older transactions end.
        const target = options.wait ? (await store.diagnostics()).lastCommittedPosition : undefined;
        let next = options.from ?? 0n;
        let count = 0;
        let told = false;
        try {
          for (;;) {
            for await (const event of store.readAll({ fromPosition: next })) {
              if (!out.write(`${exportLine(event)}\n`)) await once(out, 'drain');
              next = event.position + 1n;
              count++;
            }
            if (target === undefined || next > target) break;
            if (!told) {
              told = true;
              process.stderr.write(`${await waitingReason(store)}\n`);
            }
            await new Promise((resolve) => setTimeout(resolve, RECHECK_MS));
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

/** Why the export waits: the transaction that holds the horizon, when it is known. */
async function waitingReason(store: PostgresEventStore): Promise<string> {
  const d = await store.diagnostics();
  const holder = d.openTransactions.find((t) => t.holdsHorizon);
  const who =
    holder === undefined
      ? 'an older transaction'
      : `pid ${holder.pid} (${holder.applicationName || 'no application name'}, open ${formatDuration(holder.ageMs)})`;
  return `waiting: ${d.eventsBehindHorizon} committed event(s) are above the horizon until ${who} ends (--no-wait exports without them)`;
}
