import type { EventStore } from '@annals/core';
import { chainHash, GENESIS_HASH } from './chain-hash.js';
import { type ChainRow, insertChainRows, lockChain, readChainHead, readEventsAfter } from './chain-rows.js';
import { batchSizeOf, chainTablesOf, onChain } from './chain-store.js';

/** Options of {@link sealChain}. */
export interface SealChainOptions {
  /** Events sealed per transaction (default 2000). */
  readonly batchSize?: number;
}

/** The outcome of {@link sealChain}. */
export interface SealReport {
  /** Events this call sealed (0 when the chain was already up to date). */
  readonly sealed: number;
  /** The chain's head after the call: the last sealed position and its hash (hex). */
  readonly head?: { readonly position: bigint; readonly hash: string };
}

/**
 * Seals every committed event up to the horizon readers see into the hash chain (`event_chain`):
 * each event's SHA-256 covers its stored bytes and the previous event's hash. Runs after the fact,
 * beside appends, which it never blocks. Idempotent and resumable (each batch commits on its own),
 * and safe to run from several processes at once: sealers of one schema take turns on an advisory
 * lock. Throws `ChainUnsupported` for a store that is not a `PostgresEventStore`.
 *
 * @example
 * ```ts
 * const { sealed, head } = await sealChain(store);
 * ```
 */
export async function sealChain(store: EventStore, options: SealChainOptions = {}): Promise<SealReport> {
  const tables = chainTablesOf(store);
  const batchSize = batchSizeOf(options.batchSize);
  let sealed = 0;
  let head: SealReport['head'];
  for (;;) {
    const batch = await onChain(tables, 'sealing the event chain', () =>
      tables.store.transaction(async (transaction) => {
        const tx = transaction.withoutPlugins();
        await lockChain(tx, tables.schema);
        const last = await readChainHead(tx, tables.schema);
        let previousHash = last?.hash ?? GENESIS_HASH;
        let previousPosition = last?.position ?? null;
        const events = await readEventsAfter(
          tx,
          tables.schema,
          BigInt(previousPosition ?? -1),
          batchSize,
          true,
        );
        const rows: ChainRow[] = events.map((event) => {
          const hash = chainHash(previousHash, event);
          const row = {
            position: event.position,
            previous_position: previousPosition,
            stream_id: event.stream_id,
            revision: event.revision,
            hash,
          };
          previousHash = hash;
          previousPosition = event.position;
          return row;
        });
        await insertChainRows(tx, tables.schema, rows);
        return { rows, last, full: events.length === batchSize };
      }),
    );
    sealed += batch.rows.length;
    const top = batch.rows.at(-1) ?? batch.last;
    if (top !== undefined) head = { position: BigInt(top.position), hash: top.hash };
    if (!batch.full) return head === undefined ? { sealed } : { sealed, head };
  }
}
