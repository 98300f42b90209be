/** A JSON value, as stored in an event's data or metadata. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * Metadata carried by every event. `correlationId` ties together everything one request caused;
 * `causationId` names the command or event that directly caused this one. Other keys are free.
 */
export interface EventMetadata {
  readonly correlationId?: string;
  readonly causationId?: string;
  readonly [key: string]: unknown;
}

/**
 * An event to append. `id` is a UUID (v7 is generated when omitted; supply your own to make a retry
 * idempotent). `schemaVersion` may only differ from the definition's current version when the
 * append is an import (`append(..., { import: true })`), which is how old histories are created.
 */
export interface NewEvent<TType extends string = string, TData = unknown> {
  readonly id?: string;
  readonly type: TType;
  readonly data: TData;
  readonly metadata?: EventMetadata;
  readonly schemaVersion?: number;
  /**
   * Tags the event carries besides those its definition derives from its data (see `defineEvent`),
   * for queries and append conditions. See `MAX_TAGS_PER_EVENT` and `MAX_TAG_BYTES`.
   */
  readonly tags?: readonly string[];
}

/**
 * An event as stored. Deeply frozen: nothing hands out a mutable stored event.
 *
 * - `revision`: 0-based, gapless position within its stream.
 * - `position`: its place in the global log; strictly increasing in log order, not necessarily dense.
 */
export interface RecordedEvent<TType extends string = string, TData = unknown> {
  readonly id: string;
  readonly type: TType;
  readonly schemaVersion: number;
  readonly streamId: string;
  readonly revision: bigint;
  readonly position: bigint;
  readonly data: TData;
  readonly metadata: EventMetadata;
  readonly recordedAt: Date;
  /** Its tags, sorted and without duplicates; empty when it has none. Kept as stored through upcasting. */
  readonly tags: readonly string[];
}

/**
 * An event row exactly as an adapter stored it, before upcasting and validation on read. Adapters
 * hand these to `EventRegistry.decode` to produce {@link RecordedEvent}s.
 */
export interface StoredEvent {
  readonly id: string;
  readonly type: string;
  readonly schemaVersion: number;
  readonly streamId: string;
  readonly revision: bigint;
  readonly position: bigint;
  readonly data: unknown;
  readonly metadata: EventMetadata;
  readonly recordedAt: Date;
  /** Its stored tags; undefined or empty when it has none. */
  readonly tags?: readonly string[];
}
