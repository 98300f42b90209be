import { generateKeyPairSync } from 'node:crypto';
import type { EventStore } from '@annals/core';
import { checkpointChain, sealChain, verifyChain } from '@annals/postgres';
import type { BenchGroup } from '../harness/group.js';
import { timeOnce } from '../harness/timing.js';
import type { FigureRef } from '../harness/types.js';
import { withStore } from './append-groups.js';
import { seedStreams } from './read-groups.js';

/**
 * The event chain (tamper evidence): `sealChain` over newly appended events and `verifyChain` over
 * the whole log, each next to a plain `readAll` catch-up of the same log in the same rounds.
 */
export const chainSealVerify: BenchGroup = {
  name: 'chain',
  backends: ['pglite', 'server'],
  async build(ctx) {
    const { sizes, backend } = ctx;
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const sealed = Math.max(1, Math.floor(sizes.catchUpEvents / 5));
    let logSize = 0;
    const readAll: FigureRef[] = [{ id: 'chain.read-all', backend: backend.name }];
    const spec = (id: string, title: string, operation: string) => ({
      id,
      backend: backend.name,
      kind: 'annals' as const,
      title,
      unit: 'events/s',
      operation,
    });
    return withStore(
      ctx,
      [],
      [
        (store) => ({
          ...spec(
            'chain.read-all',
            'readAll catch-up of the whole log (the chain figures’ reference)',
            'read of the log',
          ),
          setup: async () => {
            await seedStreams(store(), {
              prefix: 'chain',
              total: sizes.catchUpEvents,
              perStream: sizes.batchSize,
              batchSize: sizes.batchSize,
            });
            logSize = sizes.catchUpEvents;
            await sealChain(store());
            await checkpointChain(store(), { privateKey });
          },
          round: () => timeOnce(() => countAll(store(), logSize)),
        }),
        (store) => ({
          ...spec(
            'chain.verify',
            'verifyChain of the whole log, hashes recomputed, checkpoints checked',
            'verify of the log',
          ),
          compareWith: readAll,
          round: () =>
            timeOnce(async () => {
              const report = await verifyChain(store(), { publicKey });
              if (!report.intact || report.events !== logSize) {
                throw new Error(
                  `verified ${report.events} of ${logSize} events: ${report.broken?.message ?? 'short'}`,
                );
              }
              return report.events;
            }),
        }),
        (store) => ({
          ...spec(
            'chain.seal',
            `sealChain of ${sealed.toLocaleString('en-US')} newly appended events, then checkpointChain`,
            `seal of ${sealed.toLocaleString('en-US')} events`,
          ),
          compareWith: readAll,
          round: async () => {
            // Appending the events to seal is not timed.
            await seedStreams(store(), {
              prefix: 'seal',
              total: sealed,
              perStream: sizes.batchSize,
              batchSize: sizes.batchSize,
            });
            logSize += sealed;
            return timeOnce(async () => {
              const report = await sealChain(store());
              await checkpointChain(store(), { privateKey });
              if (report.sealed !== sealed)
                throw new Error(`sealed ${report.sealed} events, expected ${sealed}`);
              return report.sealed;
            });
          },
        }),
      ],
    );
  },
};

/** Reads the whole log, failing a short read (a reader held back must not pass for a fast one). */
async function countAll(store: EventStore, expected: number): Promise<number> {
  let n = 0;
  for await (const _ of store.readAll()) n++;
  if (n !== expected) throw new Error(`read ${n} events, expected ${expected}`);
  return n;
}
