import { InvalidArgument } from '@annals/core';
import { verifyChain } from '@annals/postgres';
import type { Command } from 'commander';
import { CommandExit } from '../errors.js';
import { EXIT_CODES } from '../exit-codes.js';
import { toJson, writeLine } from '../output.js';
import { withSession } from '../session.js';
import { readCheckpointsFile, readKeyFile } from './chain-keys.js';

/** The options of `annals verify --chain`. */
export interface VerifyChainCliOptions {
  readonly publicKey?: string[];
  readonly checkpoints?: string;
  readonly json?: boolean;
}

/**
 * `annals verify --chain --public-key <file>... [--checkpoints <file>] [--json]`: walks the log,
 * recomputes the hash chain and checks the checkpoints; exit 5 at the first break.
 */
export async function runVerifyChain(options: VerifyChainCliOptions, command: Command): Promise<void> {
  if (options.publicKey === undefined || options.publicKey.length === 0) {
    throw new InvalidArgument('--chain expects --public-key <file>, found none.');
  }
  const publicKey = await Promise.all(options.publicKey!.map((file) => readKeyFile('--public-key', file)));
  const checkpoints = options.checkpoints === undefined ? [] : await readCheckpointsFile(options.checkpoints);
  await withSession(command, { config: 'optional', definitions: false }, async ({ store }) => {
    const report = await verifyChain(store, { publicKey, checkpoints });
    if (options.json === true) await writeLine(toJson(report));
    else {
      await writeLine(
        report.intact
          ? `chain intact: ${report.events} event(s), ${report.sealed} sealed, ${report.unsealed} not sealed yet; ${report.checkpoints} checkpoint(s) hold, signed up to ${report.signedUpTo ?? 'nothing'}`
          : `chain broken (${report.broken!.reason}): ${report.broken!.message}`,
      );
    }
    if (!report.intact) throw new CommandExit(EXIT_CODES.checkFailed);
  });
}
