import type { RecordedEvent } from '@annals/core';
import type { EventView } from './event-view.js';

export type { EventView } from './event-view.js';

/** JSON with bigints as decimal strings (Dates become ISO strings as usual). */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) => (typeof v === 'bigint' ? v.toString() : v));
}

/** A JSON response body built with {@link toJson}. */
export function jsonResponse(value: unknown, status = 200): Response {
  return new Response(toJson(value), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
  });
}

/** The view of a stored event; `read` is what decoding it gave (or undefined without a definition). */
export function eventView(stored: RecordedEvent, read: EventView['read']): EventView {
  return {
    id: stored.id,
    streamId: stored.streamId,
    revision: stored.revision.toString(),
    position: stored.position.toString(),
    recordedAt: stored.recordedAt.toISOString(),
    stored: { type: stored.type, schemaVersion: stored.schemaVersion, data: stored.data },
    read,
    metadata: stored.metadata,
  };
}
