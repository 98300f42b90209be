import { InvalidArgument } from '../errors/store-errors.js';

/**
 * The shard (0 to `count - 1`) of a stream: FNV-1a (32 bit) of the stream id's UTF-16 code units,
 * modulo `count`. Stable across processes and versions, so every runner agrees on it.
 */
export function shardOf(streamId: string, count: number): number {
  if (!Number.isSafeInteger(count) || count < 1) {
    throw new InvalidArgument(`A shard count must be a positive integer, found ${String(count)}.`);
  }
  if (count === 1) return 0;
  let hash = 0x811c9dc5;
  for (let i = 0; i < streamId.length; i++) {
    hash ^= streamId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % count;
}

/** The checkpoint and lease key of one shard: `name` itself when the projection has one shard. */
export function shardKey(name: string, index: number, count: number): string {
  return count === 1 ? name : `${name}[${index}/${count}]`;
}
