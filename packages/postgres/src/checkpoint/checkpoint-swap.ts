import type { CheckpointSaveOptions } from '@annals/core';
import { assertCheckpointArgs } from '@annals/core/adapter';
import type { Transaction } from 'kysely';
import { orUnavailable } from '../store/unavailable.js';

/**
 * One compare-and-swap of a checkpoint, as both checkpoint stores run it: checks the arguments (and
 * the owner when `withOwner`), runs `write` (true when it moved the checkpoint), and otherwise
 * throws what `conflict` returns (`CheckpointConflict` for a moved checkpoint, `LeaseLost` when the
 * leased store finds the lease lost). A lost connection is `StoreUnavailable`.
 */
export function swapCheckpoint(
  key: string,
  position: bigint,
  options: CheckpointSaveOptions<Transaction<any>>,
  withOwner: boolean,
  swap: {
    readonly write: () => Promise<boolean>;
    readonly conflict: () => Promise<Error>;
  },
): Promise<void> {
  return orUnavailable(`saving checkpoint ${key}`, async () => {
    const expected = options?.expected;
    if (withOwner) assertCheckpointArgs(key, position, expected, options.owner);
    else assertCheckpointArgs(key, position, expected);
    if (await swap.write()) return;
    throw await swap.conflict();
  });
}
