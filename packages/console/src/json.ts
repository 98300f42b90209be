import type { RecordedEvent } from '@annals/core';

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

/** An event as the API sends it: as stored, and as read through the application's definitions. */
export interface EventView {
  readonly id: string;
  readonly streamId: string;
  readonly revision: string;
  readonly position: string;
  readonly recordedAt: string;
  /** Type, schema version and data as stored. */
  readonly stored: { readonly type: string; readonly schemaVersion: number; readonly data: unknown };
  /**
   * Type, schema version and data as the application reads them (upcast), when a definition knows
   * the event; `error` when it no longer reads.
   */
  readonly read:
    | { readonly type: string; readonly schemaVersion: number; readonly data: unknown }
    | { readonly error: { readonly code: string; readonly message: string } }
    | undefined;
  readonly metadata: Readonly<Record<string, unknown>>;
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
