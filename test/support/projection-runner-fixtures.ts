import {
  CheckpointConflict,
  type CheckpointSaveOptions,
  type CheckpointStore,
  defineEvent,
  InMemoryEventStore,
  type InMemoryLeaseStore,
  LeaseLost,
  type RecordedEvent,
  UpcasterRegistry,
} from '@annals/core';
import { z } from 'zod';

/** The tests of the in-memory projection runner: events, read models, and waiting. */

export const Opened = defineEvent('Opened', { schema: z.object({ accountId: z.string() }) });
export const Deposited = defineEvent('Deposited', {
  version: 2,
  schema: z.object({ accountId: z.string(), amount: z.object({ value: z.number(), currency: z.string() }) }),
});
export const Noted = defineEvent('Noted', { schema: z.object({ text: z.string() }) });
export const upcasters = new UpcasterRegistry().register({
  type: 'Deposited',
  from: 1,
  to: 2,
  up: (v1: { accountId: string; amount: number }) => ({
    accountId: v1.accountId,
    amount: { value: v1.amount, currency: 'EUR' },
  }),
});

export const silent = { warn: () => {}, error: () => {} };
export const fastFailure = { retries: 2, backoff: { initialDelayMs: 1, maxDelayMs: 5 } };

export function newStore() {
  return new InMemoryEventStore({ events: [Opened, Deposited, Noted], upcasters });
}

export async function deposit(store: InMemoryEventStore, accountId: string, value: number) {
  await store.append(`account-${accountId}`, [
    Deposited.create({ accountId, amount: { value, currency: 'EUR' } }),
  ]);
}

/** A read model: applied deposits per event id, so a double application shows. */
export function balances() {
  const applied = new Map<string, number>();
  const byAccount = new Map<string, number>();
  return {
    applied,
    byAccount,
    apply(e: RecordedEvent<'Deposited', { accountId: string; amount: { value: number } }>) {
      applied.set(e.id, (applied.get(e.id) ?? 0) + 1);
      byAccount.set(e.data.accountId, (byAccount.get(e.data.accountId) ?? 0) + e.data.amount.value);
    },
    reset() {
      applied.clear();
      byAccount.clear();
    },
    appliedOnce(ids: readonly string[]) {
      return ids.every((id) => applied.get(id) === 1) && applied.size === ids.length;
    },
  };
}

export { waitFor } from './wait-for.js';

/**
 * A lease time-to-live no pause of a loaded test process comes near. Without a `transaction`, a
 * handler's effect on a plain object cannot be rolled back, so a runner that lost its lease (a pause
 * longer than the TTL) and a runner that took over would both apply the same event: the runner
 * promises exactly once only for effects that commit with the checkpoint. Tests of handover with such
 * a model therefore need leases that expire only when the test means them to (on `stop()`, which
 * releases them).
 */
export const HONEST_TTL_MS = 3_000;

export async function allIds(store: InMemoryEventStore, type = 'Deposited'): Promise<string[]> {
  const ids: string[] = [];
  for await (const e of store.readAll({ filter: { types: [type] } })) ids.push(e.id);
  return ids;
}

/** The staged writes of one transaction of {@link TransactionalModel}. */
export interface Staged {
  readonly applied: Map<string, number>;
  readonly checkpoints: Map<string, bigint>;
}

/**
 * A read model and checkpoint table with transactions: writes are staged and published only when
 * the unit of work resolves, like a database's.
 */
export class TransactionalModel {
  applied = new Map<string, number>();
  committedCheckpoints = new Map<string, bigint>();
  commits = 0;

  constructor(readonly leases?: InMemoryLeaseStore) {}

  transaction = async <R>(work: (tx: Staged) => Promise<R>): Promise<R> => {
    const tx: Staged = { applied: new Map(this.applied), checkpoints: new Map(this.committedCheckpoints) };
    const result = await work(tx);
    this.applied = tx.applied;
    this.committedCheckpoints = tx.checkpoints;
    this.commits++;
    return result;
  };

  readonly checkpoints: CheckpointStore<Staged> = {
    load: async (key) => this.committedCheckpoints.get(key),
    save: async (key: string, position: bigint, options: CheckpointSaveOptions<Staged>) => {
      const tx = options.transaction!;
      if (this.leases !== undefined) {
        const lease = await this.leases.get(key);
        if (lease?.owner !== options.owner) throw new LeaseLost(key, options.owner, 'lease taken');
      }
      const found = tx.checkpoints.get(key);
      if (found !== options.expected) {
        throw new CheckpointConflict(key, { expected: options.expected, found, owner: options.owner });
      }
      tx.checkpoints.set(key, position);
    },
  };
}
