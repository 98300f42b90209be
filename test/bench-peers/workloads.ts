/**
 * The timed workloads. Each runs on both stores in the same rounds: warm-up rounds, then measured
 * rounds, Annals first in even rounds and Emmett first in odd ones, so that a burst of noise on the
 * shared machine falls on both sides of a ratio.
 */
import { median } from '../bench/harness/stats.js';
import { deposit, deposits, type PeerStore } from './peer-store.js';

/** The sizes of a run. */
export interface Sizes {
  readonly rounds: number;
  readonly warmup: number;
  /** Single-event appends per round, sequential. */
  readonly sequential: number;
  /** Single-event appends per round over {@link Sizes.appenders} concurrent loops. */
  readonly concurrent: number;
  readonly appenders: number;
  /** 100-event appends per round. */
  readonly batches: number;
  /** Events of the stream readStream reads. */
  readonly streamSize: number;
  /** Events in the log the catch-up reads. */
  readonly logSize: number;
}

/** One workload: what a round does on a store, and what it counts. */
interface Workload {
  readonly name: string;
  readonly unit: string;
  /** Run once per store before the rounds (not timed). */
  readonly setup?: (store: PeerStore) => Promise<void>;
  /** One round; returns the units done. */
  readonly round: (store: PeerStore, round: number) => Promise<number>;
}

/** Medians and ratio of one workload. */
export interface WorkloadResult {
  readonly name: string;
  readonly unit: string;
  /** Units per second of each measured round, by store name. */
  readonly perRound: Record<string, number[]>;
  /** Median units per second, by store name. */
  readonly median: Record<string, number>;
  /** Annals / Emmett within each measured round. */
  readonly ratios: number[];
  readonly medianRatio: number;
}

/** The workloads of the side-by-side. */
export function workloads(sizes: Sizes): Workload[] {
  return [
    {
      name: 'single-event appends to new streams, sequential',
      unit: 'events/s',
      round: async (store, round) => {
        for (let i = 0; i < sizes.sequential; i++) {
          await store.append(`seq-${round}-${i}`, [deposit(`seq-${round}`, i)]);
        }
        return sizes.sequential;
      },
    },
    {
      name: `single-event appends to new streams, ${sizes.appenders} concurrent appenders`,
      unit: 'events/s',
      round: async (store, round) => {
        let next = 0;
        const appender = async () => {
          for (let i = next++; i < sizes.concurrent; i = next++) {
            await store.append(`conc-${round}-${i}`, [deposit(`conc-${round}`, i)]);
          }
        };
        await Promise.all(Array.from({ length: sizes.appenders }, appender));
        return sizes.concurrent;
      },
    },
    {
      name: '100-event batch appends to new streams',
      unit: 'events/s',
      round: async (store, round) => {
        for (let i = 0; i < sizes.batches; i++) {
          await store.append(`batch-${round}-${i}`, deposits(`batch-${round}-${i}`, 0, 100));
        }
        return sizes.batches * 100;
      },
    },
    {
      name: `readStream of a ${sizes.streamSize.toLocaleString('en-US')}-event stream`,
      unit: 'events/s',
      setup: async (store) => {
        for (let i = 0; i < sizes.streamSize; i += 100) {
          await store.append('big-stream', deposits('big', i, Math.min(100, sizes.streamSize - i)));
        }
        await store.analyze();
      },
      round: async (store) => {
        const n = await store.readStream('big-stream');
        if (n !== sizes.streamSize) throw new Error(`${store.name} read ${n} of ${sizes.streamSize} events`);
        return n;
      },
    },
    {
      name: `catch-up read of the whole log (${sizes.logSize.toLocaleString('en-US')} events)`,
      unit: 'events/s',
      setup: async (store) => {
        // 100-event batches over 1,000 streams: a log of many interleaved streams.
        for (let i = 0; i < sizes.logSize; i += 100) {
          const size = Math.min(100, sizes.logSize - i);
          await store.append(`log-${(i / 100) % 1000}`, deposits('log', i, size));
        }
        await store.analyze();
      },
      round: async (store) => {
        const n = await store.readAll();
        if (n !== sizes.logSize) throw new Error(`${store.name} read ${n} of ${sizes.logSize} events`);
        return n;
      },
    },
  ];
}

/**
 * Runs one workload on both stores (each reset first, so every workload starts from an empty
 * store), interleaved round by round.
 */
export async function runWorkload(
  workload: Workload,
  stores: readonly [PeerStore, PeerStore],
  sizes: Sizes,
  progress: (line: string) => void,
): Promise<WorkloadResult> {
  for (const store of stores) {
    await store.reset();
    await workload.setup?.(store);
  }
  const perRound: Record<string, number[]> = Object.fromEntries(stores.map((s) => [s.name, []]));
  const ratios: number[] = [];
  for (let round = 0; round < sizes.warmup + sizes.rounds; round++) {
    const order = round % 2 === 0 ? stores : ([stores[1], stores[0]] as const);
    const rates: Record<string, number> = {};
    for (const store of order) {
      const started = performance.now();
      const units = await workload.round(store, round);
      rates[store.name] = units / ((performance.now() - started) / 1000);
    }
    const warm = round < sizes.warmup;
    const [a, b] = stores.map((s) => rates[s.name]!);
    progress(
      `  ${warm ? 'warm-up' : `round ${round - sizes.warmup + 1}`}: ${stores[0].name} ${Math.round(a!)}, ${stores[1].name} ${Math.round(b!)} ${workload.unit}, ratio ${(a! / b!).toFixed(2)}`,
    );
    if (warm) continue;
    for (const store of stores) perRound[store.name]!.push(rates[store.name]!);
    ratios.push(a! / b!);
  }
  return {
    name: workload.name,
    unit: workload.unit,
    perRound,
    median: Object.fromEntries(stores.map((s) => [s.name, median(perRound[s.name]!)])),
    ratios,
    medianRatio: median(ratios),
  };
}
