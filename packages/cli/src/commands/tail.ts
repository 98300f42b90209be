import { hasErrorCode, InvalidArgument, type Subscription } from '@annals/core';
import type { PostgresEventStore } from '@annals/postgres';
import type { Command } from 'commander';
import { eventJson, formatEvent, toJson, writeLine } from '../output.js';
import { bigintOption } from '../parse.js';
import { withSession } from '../session.js';

interface TailOptions {
  stream?: string;
  prefix?: string;
  type?: string[];
  from?: bigint;
  json?: boolean;
}

/** `annals tail [--stream|--prefix|--type] [--from] [--json]`. */
export function registerTail(program: Command): void {
  program
    .command('tail')
    .description('print events as they are appended, until Ctrl-C (events as stored, no upcasting)')
    .option('--stream <id>', 'one stream only')
    .option('--prefix <prefix>', 'streams whose id starts with this')
    .option('--type <type...>', 'these stored event types only')
    .option('--from <n>', 'start at this global position (with --stream: this revision) instead of the end')
    .option('--json', 'print one JSON object per line')
    .action(async (raw: Omit<TailOptions, 'from'> & { from?: string }, command: Command) => {
      const options: TailOptions = {
        ...raw,
        from: raw.from === undefined ? undefined : bigintOption('--from')(raw.from),
      };
      if (options.stream !== undefined && (options.prefix !== undefined || options.type !== undefined)) {
        throw new InvalidArgument(
          'tail --stream follows one stream; --prefix and --type apply to the global log.',
        );
      }
      await withSession(command, { config: 'optional', definitions: false }, async ({ store }) => {
        let subscription: Subscription;
        if (options.stream !== undefined) {
          let from = options.from;
          if (from === undefined) {
            // From the end: the revision after the stream's last one (0 for a stream yet to come).
            from = await nextRevision(store, options.stream);
          }
          subscription = store.subscribeToStream(options.stream, { fromRevision: from });
        } else {
          const from = options.from ?? ((await store.diagnostics()).lastVisiblePosition ?? -1n) + 1n;
          const filter = {
            ...(options.prefix === undefined ? {} : { streamPrefix: options.prefix }),
            ...(options.type === undefined ? {} : { types: options.type }),
          };
          subscription = store.subscribeToAll({ fromPosition: from, filter });
        }
        const stop = () => void subscription.stop();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        process.stderr.write('tailing; Ctrl-C stops\n');
        try {
          for await (const event of subscription) {
            await writeLine(options.json === true ? toJson(eventJson(event)) : formatEvent(event));
          }
        } finally {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
        }
      });
    });
}

/** The revision after the stream's last event; 0 for a stream that does not exist yet. */
async function nextRevision(store: PostgresEventStore, streamId: string): Promise<bigint> {
  try {
    for await (const last of store.readStream(streamId, { direction: 'backwards', maxCount: 1 })) {
      return last.revision + 1n;
    }
    return 0n;
  } catch (error) {
    if (hasErrorCode(error, 'STREAM_NOT_FOUND')) return 0n;
    throw error;
  }
}
