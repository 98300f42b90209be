import { isDeepStrictEqual } from 'node:util';
import { IdempotencyConflict } from '../errors/store-errors.js';
import type { PreparedEvent } from '../events/event-preparation.js';
import type { EventMetadata, StoredEvent } from '../events/event-types.js';
import { withoutTraceContext } from '../observability/trace-context.js';
import type { AppendResult } from './event-store.js';

/**
 * The in-memory store's answer to a batch whose ids are stored already: the first append's result when
 * the batch is the same (same stream, types, versions, data, metadata apart from the trace context,
 * tags, consecutive revisions), `IdempotencyConflict` when only part of it is stored or it differs,
 * undefined when none of its ids is stored.
 */
export function idempotentResult(
  byId: ReadonlyMap<string, StoredEvent>,
  streamId: string,
  batch: readonly PreparedEvent[],
): AppendResult | undefined {
  if (!batch.some((event) => byId.has(event.id))) return undefined;
  const matches = batch.map((event) => byId.get(event.id));
  const first = matches[0];
  for (const [i, stored] of matches.entries()) {
    const event = batch[i]!;
    if (stored === undefined) {
      throw new IdempotencyConflict(
        matches.find((m) => m !== undefined)!.id,
        'while other events of the same batch are not; re-append the original batch unchanged',
      );
    }
    const sameContent =
      stored.streamId === streamId &&
      stored.type === event.type &&
      stored.schemaVersion === event.schemaVersion &&
      sameJson(stored.data, event.dataJson) &&
      sameMetadata(stored.metadata, event.metadataJson) &&
      sameTags(stored.tags, event.tags) &&
      stored.revision === first!.revision + BigInt(i);
    if (!sameContent) {
      throw new IdempotencyConflict(
        event.id,
        `in stream ${stored.streamId} at revision ${stored.revision} with other content or batch`,
      );
    }
  }
  const last = matches[matches.length - 1]!;
  return {
    nextExpectedRevision: last.revision,
    firstPosition: first!.position,
    lastPosition: last.position,
  };
}

/**
 * Whether a stored value and a JSON text are the same JSON value: object keys in any order (as a
 * `jsonb` column compares them), arrays in order. Only a re-append of a stored id asks.
 */
function sameJson(stored: unknown, json: string): boolean {
  return isDeepStrictEqual(stored, JSON.parse(json));
}

/** Whether stored and re-appended metadata agree, apart from the trace context (see `TRACE_CONTEXT_METADATA_KEY`). */
function sameMetadata(stored: EventMetadata, json: string): boolean {
  return isDeepStrictEqual(withoutTraceContext(stored), withoutTraceContext(JSON.parse(json)));
}

/** Whether stored and re-appended tags are the same (both sorted, without duplicates). */
function sameTags(stored: readonly string[] | undefined, given: readonly string[]): boolean {
  const tags = stored ?? [];
  return tags.length === given.length && tags.every((tag, i) => tag === given[i]);
}
