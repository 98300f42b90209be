import type { EventStore, NewEvent, RecordedEvent } from '@annals/core';
import {
  BaselineIds,
  createBaselineTable,
  selectCatchUp,
  selectStream,
} from '../baselines/physical-baseline.js';
import { type BenchGroup, baselineRef } from '../harness/group.js';
import { timeOnce } from '../harness/timing.js';
import { uniqueName } from '../harness/unique.js';
import { deposits, oldTransfers } from '../workload/bench-events.js';
import { withStore } from './append-groups.js';

/**
 * Appends `total` events in streams of `perStream`, batches of at most `batchSize`, and returns the
 * stream ids and the global position of the first event.
 */
export async function seedStreams(
  store: EventStore,
  options: {
    readonly prefix: string;
    readonly total: number;
    readonly perStream: number;
    readonly batchSize: number;
    readonly make?: (from: number, size: number) => NewEvent[];
    readonly import?: boolean;
  },
): Promise<{ streams: string[]; firstPosition: bigint }> {
  const make = options.make ?? deposits;
  const streams: string[] = [];
  let firstPosition: bigint | undefined;
  let written = 0;
  while (written < options.total) {
    const streamId = uniqueName(options.prefix);
    streams.push(streamId);
    const length = Math.min(options.perStream, options.total - written);
    for (let done = 0; done < length; ) {
      const size = Math.min(options.batchSize, length - done);
      const result = await store.append(streamId, make(written + done, size), {
        ...(options.import ? { import: true } : {}),
      });
      firstPosition ??= result.firstPosition;
      done += size;
    }
    written += length;
  }
  return { streams, firstPosition: firstPosition ?? 0n };
}

/**
 * Reads everything and checks the count: a short read (say, a reader held back by another
 * session's open transaction) must fail the measurement, not pass for a fast one.
 */
async function countExactly(
  events: AsyncIterable<RecordedEvent>,
  expected: number,
  check?: (e: RecordedEvent) => void,
) {
  let n = 0;
  for await (const event of events) {
    if (n === 0) check?.(event);
    n++;
  }
  if (n !== expected) throw new Error(`read ${n} events, expected ${expected}`);
  return n;
}

/** The upcast chain ran: the event reads as version 4, with the field only v4 has. */
function upcastToV4(event: RecordedEvent): void {
  const channel = (event.data as { channel?: unknown }).channel;
  if (event.schemaVersion !== 4 || channel !== 'web') {
    throw new Error(
      `expected BenchTransferred v4 after upcasting, read v${event.schemaVersion} with channel ${String(channel)}`,
    );
  }
}

/** readStream of one long stream. */
export const streamReads: BenchGroup = {
  name: 'read-stream',
  async build(ctx) {
    const { sizes, backend } = ctx;
    const { sql } = backend;
    const schema = ctx.backend.schema;
    if (sql !== undefined) await createBaselineTable(sql, schema);
    const baselines = sql === undefined ? [] : [selectStream({ sql, schema, sizes })];
    return withStore(ctx, baselines, [
      (store) => {
        let streamId = '';
        return {
          id: 'read.stream',
          backend: backend.name,
          kind: 'annals',
          title: `readStream of a ${sizes.streamLength.toLocaleString('en-US')}-event stream`,
          unit: 'events/s',
          operation: `read of ${sizes.streamLength.toLocaleString('en-US')} events`,
          compareWith: baselineRef(ctx, BaselineIds.selectStream),
          setup: async () => {
            const seeded = await seedStreams(store(), {
              prefix: 'long',
              total: sizes.streamLength,
              perStream: sizes.streamLength,
              batchSize: sizes.batchSize,
            });
            streamId = seeded.streams[0]!;
          },
          round: () => timeOnce(() => countExactly(store().readStream(streamId), sizes.streamLength)),
        };
      },
    ]);
  },
};

/** readAll catch-up over the global log, plain and through the 3-step upcast chain. */
export const catchUpReads: BenchGroup = {
  name: 'read-all',
  async build(ctx) {
    const { sizes, backend } = ctx;
    const { sql } = backend;
    const schema = ctx.backend.schema;
    if (sql !== undefined) await createBaselineTable(sql, schema);
    const baselines = sql === undefined ? [] : [selectCatchUp({ sql, schema, sizes })];
    const events = sizes.catchUpEvents.toLocaleString('en-US');
    const catchUp = (upcast: boolean) => (store: () => EventStore) => {
      let from = 0n;
      return {
        id: upcast ? 'read.all.upcast' : 'read.all',
        backend: backend.name,
        kind: 'annals' as const,
        title: upcast
          ? `readAll catch-up of ${events} events, 3-step upcast chain`
          : `readAll catch-up of ${events} events`,
        unit: 'events/s',
        operation: `catch-up of ${events} events`,
        compareWith: baselineRef(ctx, BaselineIds.selectCatchUp),
        setup: async () => {
          const seeded = await seedStreams(store(), {
            prefix: upcast ? 'old' : 'log',
            total: sizes.catchUpEvents,
            perStream: sizes.batchSize,
            batchSize: sizes.batchSize,
            ...(upcast ? { make: oldTransfers, import: true } : {}),
          });
          from = seeded.firstPosition;
        },
        round: () =>
          timeOnce(() =>
            countExactly(
              store().readAll({ fromPosition: from, maxCount: sizes.catchUpEvents }),
              sizes.catchUpEvents,
              upcast ? upcastToV4 : undefined,
            ),
          ),
      };
    };
    return withStore(ctx, baselines, [catchUp(false), catchUp(true)]);
  },
};
