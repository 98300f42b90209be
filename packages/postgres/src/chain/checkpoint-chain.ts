import type { EventStore } from '@annals/core';
import { ChainBroken } from './chain-errors.js';
import {
  type ChainKey,
  checkpointSignatureHolds,
  keyIdOf,
  signCheckpoint,
  toPrivateKey,
  toPublicKey,
} from './chain-hash.js';
import type { ChainCheckpoint } from './chain-report.js';
import { type CheckpointRow, insertCheckpoint, readChainHead, readCheckpointRows } from './chain-rows.js';
import { batchSizeOf, chainTablesOf, onChain } from './chain-store.js';
import { walkChain } from './chain-walk.js';

/** Options of {@link checkpointChain}. */
export interface CheckpointChainOptions {
  /** The Ed25519 private key that signs (a `KeyObject` or PEM text). */
  readonly privateKey: ChainKey;
  /** Events read per query while checking the chain since the last checkpoint (default 2000). */
  readonly batchSize?: number;
}

/**
 * Signs the chain's head: checks the events sealed since this key's last checkpoint (recomputing
 * their hashes), then records `(position, hash, signature)` in `event_chain_checkpoints` and returns
 * it, to publish where the database's administrators cannot rewrite it. Idempotent (a head already
 * signed returns its checkpoint); undefined when nothing is sealed. Throws `ChainBroken` instead of
 * signing a chain that does not hold, `ChainUnsupported` for a store other than `PostgresEventStore`.
 *
 * @example
 * ```ts
 * await sealChain(store);
 * const checkpoint = await checkpointChain(store, { privateKey: readFileSync('chain-key.pem') });
 * ```
 */
export async function checkpointChain(
  store: EventStore,
  options: CheckpointChainOptions,
): Promise<ChainCheckpoint | undefined> {
  const tables = chainTablesOf(store);
  const privateKey = toPrivateKey(options?.privateKey);
  const publicKey = toPublicKey(privateKey);
  const keyId = keyIdOf(publicKey);
  const batchSize = batchSizeOf(options.batchSize);
  const { db, schema } = tables;
  return onChain(tables, 'checkpointing the event chain', async () => {
    const { head, stored } = await tables.store.transaction(async (tx) => ({
      head: await readChainHead(tx.withoutPlugins(), schema),
      stored: await readCheckpointRows(tx.withoutPlugins(), schema),
    }));
    if (head === undefined) return undefined;
    const headPosition = BigInt(head.position);
    const last = stored.findLast(
      (row) =>
        row.key_id === keyId &&
        BigInt(row.position) <= headPosition &&
        checkpointSignatureHolds(publicKey, BigInt(row.position), row.hash, hexToBase64(row.signature)),
    );
    if (last !== undefined && BigInt(last.position) === headPosition) return toCheckpoint(last);
    const walk = await walkChain({
      db,
      schema,
      batchSize,
      ...(last === undefined ? {} : { start: { position: BigInt(last.position), hash: last.hash } }),
      chainHead: headPosition,
      stopAt: headPosition,
      checkpoints: [],
    });
    if (walk.broken !== undefined) throw new ChainBroken(walk.broken);
    // The head's hash as recomputed from the events (the walk found it equal to the stored one).
    const hash = walk.head?.hash ?? head.hash;
    const row = await insertCheckpoint(db, schema, {
      position: head.position,
      hash,
      key_id: keyId,
      signature: Buffer.from(signCheckpoint(privateKey, headPosition, hash), 'base64').toString('hex'),
    });
    return toCheckpoint(row);
  });
}

/** Every checkpoint stored in the store's `event_chain_checkpoints`, in position order, to publish. */
export async function listChainCheckpoints(store: EventStore): Promise<ChainCheckpoint[]> {
  const tables = chainTablesOf(store);
  return onChain(tables, 'reading the chain checkpoints', async () =>
    (
      await tables.store.transaction(async (tx) => readCheckpointRows(tx.withoutPlugins(), tables.schema))
    ).map(toCheckpoint),
  );
}

/** A stored checkpoint row as the public {@link ChainCheckpoint}. */
export function toCheckpoint(row: CheckpointRow): ChainCheckpoint {
  return {
    position: BigInt(row.position),
    hash: row.hash,
    keyId: row.key_id,
    signature: hexToBase64(row.signature),
    signedAt: new Date(row.signed_at),
  };
}

function hexToBase64(hex: string): string {
  return Buffer.from(hex, 'hex').toString('base64');
}
