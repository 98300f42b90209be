import type { KeyObject } from 'node:crypto';
import { type EventStore, InvalidArgument } from '@annals/core';
import { type ChainKey, checkpointSignatureHolds, keyIdOf, toPublicKey } from './chain-hash.js';
import type { ChainCheckpoint, ChainVerification } from './chain-report.js';
import { readChainHead, readCheckpointRows } from './chain-rows.js';
import { batchSizeOf, chainTablesOf, onChain } from './chain-store.js';
import { type WalkCheckpoint, walkChain } from './chain-walk.js';
import { toCheckpoint } from './checkpoint-chain.js';

/** Options of {@link verifyChain}. */
export interface VerifyChainOptions {
  /** The Ed25519 public key(s) the checkpoints are signed with (several while keys rotate). */
  readonly publicKey: ChainKey | readonly ChainKey[];
  /**
   * Checkpoints kept outside the database (published): checked like the stored ones, so a deleted or
   * rewritten checkpoint, or a log cut short, is found too.
   */
  readonly checkpoints?: readonly ChainCheckpoint[];
  /** Events read per query (default 2000). */
  readonly batchSize?: number;
}

/**
 * Walks the whole log below the horizon in position order, recomputes every event's chain hash from
 * its stored bytes, and compares it with the sealed chain and with every checkpoint (stored and
 * given), whose signatures it checks. Returns a report; a tampered log is not an error: the report's
 * `broken` names the first event whose hash does not hold, with its stream, revision and position.
 * Throws `ChainUnsupported` for a store other than `PostgresEventStore`, `InvalidArgument` for a key
 * or checkpoint that is not one.
 *
 * @example
 * ```ts
 * const report = await verifyChain(store, { publicKey: readFileSync('chain-key.pub.pem') });
 * if (!report.intact) console.error(report.broken!.message);
 * ```
 */
export async function verifyChain(
  store: EventStore,
  options: VerifyChainOptions,
): Promise<ChainVerification> {
  const tables = chainTablesOf(store);
  const keys = publicKeysOf(options?.publicKey);
  const given = (options.checkpoints ?? []).map(assertCheckpoint);
  const batchSize = batchSizeOf(options.batchSize);
  return onChain(tables, 'verifying the event chain', async () => {
    // The checkpoints first, then the head: every checkpoint is at or below the head read after it.
    const { stored, head } = await tables.store.transaction(async (tx) => ({
      stored: await readCheckpointRows(tx.withoutPlugins(), tables.schema),
      head: await readChainHead(tx.withoutPlugins(), tables.schema),
    }));
    const checkpoints: WalkCheckpoint[] = [...stored.map(toCheckpoint), ...given]
      .map((checkpoint) => {
        const key = keys.get(checkpoint.keyId);
        return {
          position: checkpoint.position,
          hash: checkpoint.hash,
          keyId: checkpoint.keyId,
          signed:
            key !== undefined &&
            checkpointSignatureHolds(key, checkpoint.position, checkpoint.hash, checkpoint.signature),
        };
      })
      .sort((a, b) => (a.position < b.position ? -1 : a.position > b.position ? 1 : 0));
    return walkChain({
      db: tables.db,
      schema: tables.schema,
      batchSize,
      chainHead: head === undefined ? undefined : BigInt(head.position),
      checkpoints,
    });
  });
}

function publicKeysOf(value: unknown): Map<string, KeyObject> {
  const list = (Array.isArray(value) ? value : [value]) as ChainKey[];
  if (list.length === 0)
    throw new InvalidArgument('publicKey must name at least one Ed25519 key, found none.');
  return new Map(
    list.map((key) => {
      const publicKey = toPublicKey(key);
      return [keyIdOf(publicKey), publicKey] as const;
    }),
  );
}

function assertCheckpoint(value: ChainCheckpoint, index: number): ChainCheckpoint {
  const ok =
    typeof value === 'object' &&
    value !== null &&
    typeof value.position === 'bigint' &&
    typeof value.hash === 'string' &&
    /^[0-9a-f]{64}$/.test(value.hash) &&
    typeof value.keyId === 'string' &&
    typeof value.signature === 'string';
  if (!ok) {
    throw new InvalidArgument(
      `checkpoints[${index}] must be { position: bigint, hash: 64 lowercase hex digits, keyId: string, signature: base64 string }, found ${describe(value)}.`,
    );
  }
  return value;
}

function describe(value: unknown): string {
  try {
    return JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? `${v}n` : v)) ?? String(value);
  } catch {
    return String(value);
  }
}
