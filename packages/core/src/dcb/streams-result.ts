import type { AppendResult } from '../store/event-store.js';
import type { AppendToStreamsResult } from './append-condition.js';

/** @internal The result of `appendToStreams` from one {@link AppendResult} per write, in order. */
export function toStreamsResult(
  writes: readonly { readonly streamId: string }[],
  results: readonly (AppendResult | undefined)[],
): AppendToStreamsResult {
  const streams = writes.map((write, i) => ({ streamId: write.streamId, ...results[i]! }));
  let first = streams[0]!.firstPosition;
  let last = streams[0]!.lastPosition;
  for (const s of streams) {
    if (s.firstPosition < first) first = s.firstPosition;
    if (s.lastPosition > last) last = s.lastPosition;
  }
  return { streams, firstPosition: first, lastPosition: last };
}
