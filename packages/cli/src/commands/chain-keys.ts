import { readFile } from 'node:fs/promises';
import { InvalidArgument } from '@annals/core';
import type { ChainCheckpoint } from '@annals/postgres';

/** The text of a key file (PEM), or `INVALID_ARGUMENT` naming the option and the file. */
export async function readKeyFile(option: string, path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new InvalidArgument(
      `${option} expects a readable PEM key file, found ${JSON.stringify(path)}: ${
        error instanceof Error ? error.message : String(error)
      }.`,
      { cause: error },
    );
  }
}

/**
 * Published checkpoints, one JSON object a line as `annals seal --checkpoint --json` prints them
 * (`{ "position": "…", "hash": "…", "keyId": "…", "signature": "…" }`).
 */
export async function readCheckpointsFile(path: string): Promise<ChainCheckpoint[]> {
  const text = await readKeyFile('--checkpoints', path);
  return text
    .split('\n')
    .map((line, index) => [line.trim(), index + 1] as const)
    .filter(([line]) => line !== '')
    .map(([line, number]) => {
      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(line);
      } catch {
        throw new InvalidArgument(
          `--checkpoints expects one JSON object a line, found at line ${number}: ${line}`,
        );
      }
      const checkpoint = parsed.checkpoint ?? parsed;
      const { position, hash, keyId, signature } = checkpoint as Record<string, unknown>;
      if (typeof position !== 'string' || !/^\d+$/.test(position)) {
        throw new InvalidArgument(
          `--checkpoints expects a decimal "position" string at line ${number}, found ${JSON.stringify(position)}.`,
        );
      }
      return { position: BigInt(position), hash, keyId, signature } as ChainCheckpoint;
    });
}
