import type { RecordedEvent } from '../events/event-types.js';
import type { EventStore } from './event-store.js';

/** Options of {@link exportEvents}. */
export interface ExportEventsOptions {
  /** First global position to export (inclusive). Default: the start of the log. */
  readonly fromPosition?: bigint;
}

/**
 * Every event of a store's log (or of one tenant's, given `store.forTenant(id)`), in position
 * order, as its reads return it: what `readAll` yields, without filters. With a store that has no
 * definitions and no upcasters, events come out as stored. The log of one tenant handle never holds
 * another tenant's events, so neither does its export.
 *
 * @example
 * ```ts
 * for await (const event of exportEvents(store.forTenant('acme'))) out.write(`${JSON.stringify(event)}\n`);
 * ```
 */
export function exportEvents(
  store: EventStore,
  options: ExportEventsOptions = {},
): AsyncIterable<RecordedEvent> {
  return store.readAll(options.fromPosition === undefined ? {} : { fromPosition: options.fromPosition });
}

/** The outcome of {@link importEvents}. */
export interface ImportEventsResult {
  /** Events read from the source (appended now, or found stored by an earlier run). */
  readonly events: number;
  /** The position of the last imported event in the target, when there was one. */
  readonly lastPosition: bigint | undefined;
}

/**
 * Appends exported events to `target`, keeping their ids, streams, revisions, types, schema versions,
 * data, metadata and `recordedAt` (`import: true`). Consecutive events of one stream go in one batch
 * (at most `batchSize`, default 100) expecting the revision before them, so the target's streams end
 * up exactly as exported. Positions are the target's own. Resumable: running it again over the same
 * events appends only the missing ones (a stored batch returns its first result).
 */
export async function importEvents(
  target: EventStore,
  events: AsyncIterable<RecordedEvent>,
  options: { readonly batchSize?: number } = {},
): Promise<ImportEventsResult> {
  const batchSize = options.batchSize ?? 100;
  let batch: RecordedEvent[] = [];
  let count = 0;
  let lastPosition: bigint | undefined;
  const flush = async () => {
    if (batch.length === 0) return;
    const first = batch[0]!;
    const result = await target.append(
      first.streamId,
      batch.map((e) => ({
        id: e.id,
        type: e.type,
        schemaVersion: e.schemaVersion,
        data: e.data,
        metadata: e.metadata,
      })),
      {
        expectedRevision: first.revision === 0n ? 'no_stream' : first.revision - 1n,
        import: true,
        recordedAt: batch.map((e) => e.recordedAt),
      },
    );
    count += batch.length;
    lastPosition = result.lastPosition;
    batch = [];
  };
  for await (const event of events) {
    const last = batch.at(-1);
    if (
      last !== undefined &&
      (last.streamId !== event.streamId || last.revision + 1n !== event.revision || batch.length >= batchSize)
    ) {
      await flush();
    }
    batch.push(event);
  }
  await flush();
  return { events: count, lastPosition };
}
