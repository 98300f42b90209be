import { InvalidArgument } from '@annals/core';
import { checkpointChain, sealChain } from '@annals/postgres';
import type { Command } from 'commander';
import { toJson, writeLine } from '../output.js';
import { countOption } from '../parse.js';
import { withSession } from '../session.js';
import { readKeyFile } from './chain-keys.js';

/** `annals seal [--checkpoint --private-key <file>] [--json]`. */
export function registerSeal(program: Command): void {
  program
    .command('seal')
    .description(
      'seal every committed event into the hash chain; with --checkpoint, sign the chain head (exit 5 if the chain does not hold)',
    )
    .option('--checkpoint', 'then sign the chain head with --private-key and print the checkpoint')
    .option('--private-key <file>', 'Ed25519 private key (PEM) that signs the checkpoint')
    .option('--batch-size <n>', 'events sealed per transaction (default 2000)', countOption('--batch-size'))
    .option('--json', 'print one JSON object')
    .action(
      async (
        options: { checkpoint?: boolean; privateKey?: string; batchSize?: number; json?: boolean },
        command: Command,
      ) => {
        if (options.checkpoint === true && options.privateKey === undefined) {
          throw new InvalidArgument('--checkpoint expects --private-key <file>, found none.');
        }
        const privateKey =
          options.privateKey === undefined
            ? undefined
            : await readKeyFile('--private-key', options.privateKey);
        await withSession(command, { config: 'optional', definitions: false }, async ({ store }) => {
          const batch = options.batchSize === undefined ? {} : { batchSize: options.batchSize };
          const sealed = await sealChain(store, batch);
          const checkpoint =
            options.checkpoint === true
              ? await checkpointChain(store, { privateKey: privateKey!, ...batch })
              : undefined;
          if (options.json === true) {
            await writeLine(
              toJson({ sealed: sealed.sealed, head: sealed.head ?? null, checkpoint: checkpoint ?? null }),
            );
            return;
          }
          await writeLine(
            sealed.head === undefined
              ? 'sealed 0 event(s): the log is empty'
              : `sealed ${sealed.sealed} event(s); chain head at position ${sealed.head.position}: ${sealed.head.hash}`,
          );
          if (checkpoint !== undefined) {
            await writeLine(`checkpoint: ${toJson(checkpoint)}`);
          }
        });
      },
    );
}
