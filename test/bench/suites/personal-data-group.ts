import type { EventStore, NewEvent, RecordedEvent } from '@annals/core';
import type { BenchGroup, BuiltGroup } from '../harness/group.js';
import { timeOnce, timeOperations } from '../harness/timing.js';
import type { MeasurementSpec } from '../harness/types.js';
import { uniqueName } from '../harness/unique.js';
import { BenchDeposited, BenchDepositedPersonal, depositData } from '../workload/bench-events.js';
import { seedStreams } from './read-groups.js';

type Kind = 'plain' | 'sealed';

/** Deposits go to 100 accounts (data subjects): each key is created once, then fetched per append or page. */
const ACCOUNTS = 100;

/** The `i`-th deposit, plain or with its note sealed (same data, same size before sealing). */
function depositOf(kind: Kind, i: number): NewEvent {
  return kind === 'plain'
    ? BenchDeposited.create(depositData(i, ACCOUNTS))
    : BenchDepositedPersonal.create(depositData(i, ACCOUNTS));
}

/** Checks that a read opened the sealed note (a wrong key or a skipped open would show here). */
function noteInClear(event: RecordedEvent): void {
  if (typeof (event.data as { note?: unknown }).note !== 'string') {
    throw new Error(`expected the note in clear, read ${JSON.stringify(event.data)}`);
  }
}

/**
 * What crypto-shredding costs: the same deposits appended and read back plain (a store without
 * personal data) and with their note declared `personal()` (sealed with AES-256-GCM under a key per
 * account, the store's default key store), measured round-robin in the same run. The sealed figure's
 * ratio to the plain one is the overhead (1.00: none).
 */
export const personalDataOverhead: BenchGroup = {
  name: 'personal-data',
  async build(ctx): Promise<BuiltGroup> {
    const { backend, sizes } = ctx;
    if (typeof backend.openStore !== 'function') return { specs: [] };
    const stores: Record<Kind, EventStore> = {
      plain: await backend.openStore(),
      sealed: await backend.openStore({ personalData: true }),
    };
    const appends = (kind: Kind): MeasurementSpec => ({
      id: `personal.append.${kind}`,
      backend: backend.name,
      kind: 'annals',
      title: `single-event appends to new streams, sequential, ${kind === 'plain' ? 'no personal fields' : 'one sealed personal field'}`,
      unit: 'events/s',
      operation: 'append of 1 event',
      ...(kind === 'sealed' ? { compareWith: [{ id: 'personal.append.plain', backend: backend.name }] } : {}),
      round: () =>
        timeOperations({ operations: sizes.sequentialAppends }, (i) =>
          stores[kind].append(uniqueName(`pd-${kind}`), [depositOf(kind, i)], {
            expectedRevision: 'no_stream',
          }),
        ),
    });
    const reads = (kind: Kind): MeasurementSpec => {
      let streamId = '';
      const length = sizes.streamLength;
      return {
        id: `personal.read.${kind}`,
        backend: backend.name,
        kind: 'annals',
        title: `readStream of a ${length.toLocaleString('en-US')}-event stream, ${kind === 'plain' ? 'no personal fields' : 'one sealed personal field each'}`,
        unit: 'events/s',
        operation: `read of ${length.toLocaleString('en-US')} events`,
        ...(kind === 'sealed' ? { compareWith: [{ id: 'personal.read.plain', backend: backend.name }] } : {}),
        setup: async () => {
          const seeded = await seedStreams(stores[kind], {
            prefix: `pd-long-${kind}`,
            total: length,
            perStream: length,
            batchSize: sizes.batchSize,
            make: (from, size) => Array.from({ length: size }, (_, k) => depositOf(kind, from + k)),
          });
          streamId = seeded.streams[0]!;
        },
        round: () =>
          timeOnce(async () => {
            let n = 0;
            for await (const event of stores[kind].readStream(streamId)) {
              if (n === 0) noteInClear(event);
              n++;
            }
            if (n !== length) throw new Error(`read ${n} events, expected ${length}`);
            return n;
          }),
      };
    };
    return {
      specs: [appends('plain'), appends('sealed'), reads('plain'), reads('sealed')],
      close: async () => {
        await stores.plain.close();
        await stores.sealed.close();
      },
    };
  },
};
